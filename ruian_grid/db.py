"""Database helpers for migrations: append-only tables enforced by PostgreSQL triggers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
