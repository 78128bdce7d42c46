"""Bulk inserts with their history rows: what goes in comes back, whatever the text holds."""

import pytest

from grids.registry import bulk
from grids.registry.models import Household, Status


@pytest.mark.django_db
def test_rows_and_their_history_rows_hold_exactly_the_values_given(cast):
    place = {
        "tenant_id": cast.ruian.pk,
        "city_id": cast.plot_a1.parent.parent.parent_id,
        "township_id": cast.plot_a1.parent.parent_id,
        "cell_id": cast.plot_a1.parent_id,
        "plot_id": cast.plot_a1.pk,
    }
    awkward = ["tab\there", "line\nbreak\r\nand return", "back\\slash \\N \\t", "\\", "九三村1号", ""]
    objs = [
        bulk.new(
            Household, {**place, "number": f"B-{n}", "address": text, "tags": n, "status": Status.ACTIVE}
        )
        for n, text in enumerate(awkward)
    ]
    bulk.create_with_history(Household, objs, user=cast.township_a_staff, reason="import #1\ttab")
    stored = {h.number: h for h in Household.objects.filter(number__startswith="B-")}
    assert [stored[f"B-{n}"].address for n in range(len(awkward))] == awkward
    assert [stored[f"B-{n}"].tags for n in range(len(awkward))] == list(range(len(awkward)))
    first = stored["B-0"]
    assert (first.pk, first.status, first.latitude, first.dwelling_id) == (objs[0].pk, "active", None, None)
    assert first.created_at == objs[0].created_at and first.updated_at is not None
    for obj in objs:
        record = obj.history.get()
        assert (record.address, record.history_type, record.history_change_reason) == (
            obj.address,
            "+",
            "import #1\ttab",
        )
        assert (record.history_user_id, record.plot_id, record.number) == (
            cast.township_a_staff.pk,
            cast.plot_a1.pk,
            obj.number,
        )
