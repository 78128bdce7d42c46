"""Stored codes follow the new names: an establishment kind "organisation" is now "institution" (in
the rows and their history), an import of kind "organisations" is now "establishments". Reversible."""

from django.db import migrations

# (model, field, old value, new value)
RENAMES = [
    ("Establishment", "kind", "organisation", "institution"),
    ("HistoricalEstablishment", "kind", "organisation", "institution"),
    ("ImportJob", "kind", "organisations", "establishments"),
]


def _rename(apps, schema_editor, forward: bool) -> None:  # noqa: ANN001
    for model_name, field, old, new in RENAMES:
        model = apps.get_model("grids", model_name)
        src, dst = (old, new) if forward else (new, old)
        model.objects.filter(**{field: src}).update(**{field: dst})


def forwards(apps, schema_editor) -> None:  # noqa: ANN001
    _rename(apps, schema_editor, forward=True)


def backwards(apps, schema_editor) -> None:  # noqa: ANN001
    _rename(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [("grids", "0005_rename_organisation_to_establishment")]

    operations = [migrations.RunPython(forwards, backwards)]
