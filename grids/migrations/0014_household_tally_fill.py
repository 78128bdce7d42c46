"""Count the active households of every plot into the new tallies (data only; see 0010)."""

from django.db import migrations
from django.db.models import Count


def fill(apps, schema_editor):
    Household = apps.get_model("grids", "Household")
    HouseholdTally = apps.get_model("grids", "HouseholdTally")
    rows = (
        Household.objects.filter(status="active")
        .values("tenant_id", "city_id", "township_id", "cell_id", "plot_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    HouseholdTally.objects.bulk_create(
        [HouseholdTally(**{k: v for k, v in row.items() if k != "n"}, households=row["n"]) for row in rows],
        batch_size=1000,
    )


def empty(apps, schema_editor):
    apps.get_model("grids", "HouseholdTally").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("grids", "0013_household_tally")]

    operations = [migrations.RunPython(fill, empty)]
