"""The responsible units are called units (teams.Unit), not organisations: a rename, no data moves."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # After the cases app's foreign keys to the old model exist, so that the rename repoints them.
    dependencies = [
        ("cases", "0002_timeline_append_only"),
        ("teams", "0002_organisations"),
    ]

    operations = [
        migrations.RenameModel(old_name="Organisation", new_name="Unit"),
        # The column is renamed in place (PostgreSQL and SQLite both carry the unique constraint along);
        # Django's own RenameField would rebuild the table on SQLite from a state whose constraint still
        # names the old field.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="membership", name="teams_membership_unique"),
                migrations.RenameField(model_name="membership", old_name="organisation", new_name="unit"),
                migrations.AddConstraint(
                    model_name="membership",
                    constraint=models.UniqueConstraint(
                        fields=("unit", "user"), name="teams_membership_unique"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE "teams_membership" RENAME COLUMN "organisation_id" TO "unit_id"',
                    reverse_sql='ALTER TABLE "teams_membership" RENAME COLUMN "unit_id" TO "organisation_id"',
                ),
            ],
        ),
        migrations.AlterModelOptions(
            name="unit",
            options={
                "ordering": ["tenant", "kind", "code"],
                "verbose_name": "unit",
                "verbose_name_plural": "units",
            },
        ),
        migrations.AlterField(
            model_name="membership",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="teams.unit",
                verbose_name="unit",
            ),
        ),
        migrations.AlterField(
            model_name="unit",
            name="members",
            field=models.ManyToManyField(
                related_name="units",
                through="teams.Membership",
                to=settings.AUTH_USER_MODEL,
                verbose_name="members",
            ),
        ),
        migrations.AlterField(
            model_name="unit",
            name="node",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="units",
                to="grids.gridnode",
                verbose_name="grid node served",
            ),
        ),
        migrations.AlterField(
            model_name="unit",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="units",
                to="grids.tenant",
                verbose_name="tenant",
            ),
        ),
        migrations.RemoveConstraint(model_name="unit", name="teams_org_code_unique_in_tenant"),
        migrations.AddConstraint(
            model_name="unit",
            constraint=models.UniqueConstraint(
                fields=("tenant", "code"), name="teams_unit_code_unique_in_tenant"
            ),
        ),
        migrations.RemoveConstraint(model_name="unit", name="teams_org_office_has_node"),
        migrations.AddConstraint(
            model_name="unit",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "department"), ("node__isnull", False), _connector="OR"),
                name="teams_unit_office_has_node",
            ),
        ),
    ]
