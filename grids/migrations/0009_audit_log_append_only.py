"""The audit log is append-only in the database too: on PostgreSQL a trigger refuses UPDATE and DELETE."""

from django.db import migrations

from ruian_grid.db import append_only_sql, on_postgres

CREATE, DROP = append_only_sql("grids_auditentry", "the audit log")
forward = on_postgres(CREATE)
reverse = on_postgres(DROP)


class Migration(migrations.Migration):
    dependencies = [("grids", "0008_audit_log")]

    operations = [migrations.RunPython(forward, reverse)]
