"""The timeline is append-only in the database too: on PostgreSQL a trigger refuses UPDATE and DELETE."""

from django.db import migrations

from ruian_grid.db import append_only_sql, on_postgres

CREATE, DROP = append_only_sql("cases_caseevent", "the case timeline")
forward = on_postgres(CREATE)
reverse = on_postgres(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_cases_workflow")]

    operations = [migrations.RunPython(forward, reverse)]
