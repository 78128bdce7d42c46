"""Database helpers: append-only tables enforced by PostgreSQL triggers (for migrations), and
fresh planner statistics after a bulk load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Model


def append_only_sql(table: str, what: str) -> tuple[str, str]:
    """SQL that makes `table` refuse every UPDATE and DELETE, whoever asks, and SQL that undoes it."""
    function = f"{table}_append_only"
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = '{what} is append-only: ' || TG_OP || ' refused on {table}',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
    return create, drop


def on_postgres(sql: str) -> Callable[[Any, Any], None]:
    """A RunPython function that runs `sql` on PostgreSQL and does nothing elsewhere (SQLite)."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


def analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics of the tables behind `models` (and their history tables).

    Run at the end of every bulk load (seed, imports). Autovacuum analyzes a table only after enough
    of it changed and only when it gets round to it; until then the planner believes the table is as
    small as it was, picks nested loops over what are now hundreds of thousands of rows, and the first
    users wait seconds for a page (measured: 0.8 requests/s right after a full seed, 11.5 after ANALYZE).
    """
    tables: list[str] = []
    for model in models:
        for m in (model, getattr(getattr(model, "history", None), "model", None)):
            if m is not None and m._meta.db_table not in tables:
                tables.append(m._meta.db_table)
    if not tables:
        return
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(quote(t) for t in tables))
        else:
            for table in tables:
                cursor.execute("ANALYZE " + quote(table))
