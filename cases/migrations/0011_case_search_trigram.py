"""Trigram indexes for the case list's keyword search (PostgreSQL only; SQLite scans, which is fine at
laptop scale).

The search is `icontains`, which Django writes on PostgreSQL as `UPPER(col::text) LIKE UPPER(%s)`; the
indexes are on that same expression so the planner can use them (a bitmap OR over the three columns).
pg_trgm hashes non-ASCII trigrams, so Chinese text is indexed under the C.UTF-8 locale too.
"""

from django.db import migrations

COLUMNS = ("title", "description", "party_names")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "cases_search_{column}" ON "cases_case" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "cases_search_{column}"')


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_workbench_queues_and_deadlines")]

    operations = [migrations.RunPython(forwards, backwards)]
