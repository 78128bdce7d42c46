"""The registry's enterprises, shops and institutions are establishments (grids.Establishment), not
organisations: renames of the model, its history model, an index and a constraint; no data moves.
The kind "public organisation" becomes "public institution"; the stored values change in 0006."""

import django.db.models.deletion
from django.db import migrations, models

KINDS = [
    ("enterprise", "enterprise"),
    ("shop", "shop"),
    ("institution", "public institution"),
    ("social", "social organisation"),
    ("other", "other"),
]


class Migration(migrations.Migration):
    dependencies = [("grids", "0004_personal_data_access_append_only")]

    operations = [
        migrations.RenameModel(old_name="Organisation", new_name="Establishment"),
        migrations.RenameModel(old_name="HistoricalOrganisation", new_name="HistoricalEstablishment"),
        migrations.AlterModelOptions(
            name="establishment",
            options={
                "ordering": ["name"],
                "verbose_name": "establishment",
                "verbose_name_plural": "establishments",
            },
        ),
        migrations.AlterModelOptions(
            name="historicalestablishment",
            options={
                "get_latest_by": ("history_date", "history_id"),
                "ordering": ("-history_date", "-history_id"),
                "verbose_name": "historical establishment",
                "verbose_name_plural": "historical establishments",
            },
        ),
        migrations.AlterField(
            model_name="establishment",
            name="building",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="establishments",
                to="grids.building",
                verbose_name="building",
            ),
        ),
        migrations.AlterField(
            model_name="establishment",
            name="kind",
            field=models.CharField(choices=KINDS, default="enterprise", max_length=16, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="historicalestablishment",
            name="kind",
            field=models.CharField(choices=KINDS, default="enterprise", max_length=16, verbose_name="kind"),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="kind",
            field=models.CharField(
                choices=[
                    ("residents", "households and residents"),
                    ("buildings", "buildings and dwellings"),
                    ("establishments", "establishments"),
                ],
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.RenameIndex(
            model_name="establishment",
            old_name="grids_organisation_plot",
            new_name="grids_establishment_plot",
        ),
        migrations.RemoveConstraint(
            model_name="establishment", name="grids_organisation_code_unique_in_tenant"
        ),
        migrations.AddConstraint(
            model_name="establishment",
            constraint=models.UniqueConstraint(
                fields=("tenant", "credit_code"), name="grids_establishment_code_unique_in_tenant"
            ),
        ),
    ]
