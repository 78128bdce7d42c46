"""Fill the parties' names of the cases recorded before the column existed (names only, no phones)."""

from django.db import migrations

BATCH = 2000


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    changed = []
    for case in Case.objects.exclude(parties=[]).only("pk", "parties").iterator(chunk_size=BATCH):
        names = " ".join(str(p.get("name", "")) for p in case.parties or [] if isinstance(p, dict))
        case.party_names = names.strip()
        changed.append(case)
        if len(changed) >= BATCH:
            Case.objects.bulk_update(changed, ["party_names"])
            changed = []
    if changed:
        Case.objects.bulk_update(changed, ["party_names"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_case_search_trigram")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
