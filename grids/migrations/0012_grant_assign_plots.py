"""Give the new `assign_plots` right to those who assigned plots before (holders of `manage_grid`) and
to township staff (holders of `manage_cases` at a township grid), at the same nodes."""

from django.db import migrations
from django.db.models import Q


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    GridNode = apps.get_model("grids", "GridNode")
    content_type, _created = ContentType.objects.get_or_create(app_label="grids", model="gridnode")
    assign, _created = Permission.objects.get_or_create(
        content_type=content_type,
        codename="assign_plots",
        defaults={"name": "Assign plots' responsible members and make pairings"},
    )
    townships = GridNode.objects.filter(level=1).values("pk")
    for name, owner in (("GridNodeUserPermission", "user_id"), ("GridNodeGroupPermission", "group_id")):
        model = apps.get_model("grids", name)
        rows = model.objects.filter(permission__content_type=content_type).filter(
            Q(permission__codename="manage_grid")
            | Q(permission__codename="manage_cases", content_object__in=townships)
        )
        have = set(model.objects.filter(permission=assign).values_list(owner, "content_object_id"))
        new = {(getattr(r, owner), r.content_object_id) for r in rows} - have
        model.objects.bulk_create(
            [model(**{owner: who, "content_object_id": node, "permission": assign}) for who, node in sorted(new)]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0011_assign_plots_right"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
