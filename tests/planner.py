"""What the query planner believes about a table: the row count its last ANALYZE recorded."""

from __future__ import annotations

from django.db import connection


def analyzed_rows(table: str) -> int | None:
    """Rows counted by the table's last ANALYZE; None if it was never analyzed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            (tuples,) = cursor.fetchone()
            return None if tuples < 0 else int(tuples)
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        # One entry per index (or one for the table if it has none), each starting with its row
        # count; a partial index counts fewer, so the table's is the largest.
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        counts = [int(stat.split()[0]) for (stat,) in cursor.fetchall()]
        return max(counts) if counts else None
