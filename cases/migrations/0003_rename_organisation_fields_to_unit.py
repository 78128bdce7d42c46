"""A case's responsible unit and an assisting part's unit are called `unit` (teams.Unit): renames only.

Each column is renamed in place: PostgreSQL and SQLite carry the indexes and constraints that use it
along (Django's own RenameField would rebuild a table on SQLite from a state whose indexes still name
the old field). The migration state's copies of those indexes and constraints are rewritten to name
the new field, then the indexes get their new names with RenameIndex.
"""

from django.db import migrations, models

HANDLED_STATUSES = ["dispatched", "in_hand", "paused", "resolved"]


def _rename_column(table: str, old: str, new: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f'ALTER TABLE "{table}" RENAME COLUMN "{old}" TO "{new}"',
        reverse_sql=f'ALTER TABLE "{table}" RENAME COLUMN "{new}" TO "{old}"',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_timeline_append_only"),
        ("teams", "0003_rename_organisation_to_unit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="case", name="cases_by_responsible_org"),
                migrations.RemoveConstraint(model_name="case", name="cases_handled_has_unit"),
                migrations.RenameField(
                    model_name="case", old_name="responsible_org", new_name="responsible_unit"
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        models.F("responsible_unit"),
                        models.OrderBy(models.F("created_at"), descending=True),
                        models.OrderBy(models.F("id"), descending=True),
                        name="cases_by_responsible_org",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="case",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status__in", HANDLED_STATUSES), _negated=True),
                            ("responsible_unit__isnull", False),
                            _connector="OR",
                        ),
                        name="cases_handled_has_unit",
                    ),
                ),
            ],
            database_operations=[_rename_column("cases_case", "responsible_org_id", "responsible_unit_id")],
        ),
        migrations.RenameIndex(
            model_name="case", old_name="cases_by_responsible_org", new_name="cases_by_responsible_unit"
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="casepart", name="cases_part_by_org"),
                migrations.RemoveConstraint(model_name="casepart", name="cases_part_one_per_unit"),
                migrations.RenameField(model_name="casepart", old_name="organisation", new_name="unit"),
                migrations.AddIndex(
                    model_name="casepart",
                    index=models.Index(fields=["unit", "status"], name="cases_part_by_org"),
                ),
                migrations.AddConstraint(
                    model_name="casepart",
                    constraint=models.UniqueConstraint(
                        fields=("case", "unit"), name="cases_part_one_per_unit"
                    ),
                ),
            ],
            database_operations=[_rename_column("cases_casepart", "organisation_id", "unit_id")],
        ),
        migrations.RenameIndex(
            model_name="casepart", old_name="cases_part_by_org", new_name="cases_part_by_unit"
        ),
        # "unit" now means a responsible unit; a time policy's unit is a time unit.
        migrations.AlterField(
            model_name="timepolicy",
            name="unit",
            field=models.CharField(
                choices=[("days", "working days"), ("hours", "working hours")],
                default="days",
                max_length=5,
                verbose_name="time unit",
            ),
        ),
    ]
