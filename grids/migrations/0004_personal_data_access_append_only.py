"""The personal-data access log is append-only in the database too: on PostgreSQL a trigger refuses
every UPDATE and DELETE of grids_personaldataaccess, whoever asks (admin, shell, a bug)."""

from django.db import migrations

from ruian_grid.db import append_only_sql, on_postgres

CREATE, DROP = append_only_sql("grids_personaldataaccess", "the personal data access log")


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_registry_buildings_residents_units")]

    operations = [migrations.RunPython(on_postgres(CREATE), on_postgres(DROP))]
