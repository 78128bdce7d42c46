"""The personal-data access log is append-only in the database too: on PostgreSQL a trigger refuses
every UPDATE and DELETE of grids_personaldataaccess, whoever asks (admin, shell, a bug)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION grids_personaldataaccess_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the personal data access log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS grids_personaldataaccess_append_only ON grids_personaldataaccess;
CREATE TRIGGER grids_personaldataaccess_append_only
    BEFORE UPDATE OR DELETE ON grids_personaldataaccess
    FOR EACH ROW EXECUTE FUNCTION grids_personaldataaccess_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS grids_personaldataaccess_append_only ON grids_personaldataaccess;
DROP FUNCTION IF EXISTS grids_personaldataaccess_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_registry_buildings_residents_units")]

    operations = [migrations.RunPython(create, drop)]
