"""Early warning from the data: the Poisson test on synthetic weekly series with a known answer,
and the nightly scan (one draft per node, kind and week; dismissed drafts kept with their reason)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases.models import Case
from mechanisms import services
from mechanisms.models import EarlyWarningDraft

from .conftest import at, backdate, record

DAY = dt.date(2026, 5, 31)  # a Sunday: the week flagged starts Monday 25 May


def test_poisson_tail_matches_known_values():
    assert services.poisson_upper_tail(0, 3.0) == 1.0
    assert services.poisson_upper_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, rel=1e-9)
    assert services.poisson_upper_tail(15, 5.0) == pytest.approx(0.000226, rel=0.01)


def test_a_flat_series_raises_nothing():
    assert services.early_warning_test(observed=5, baseline_total=40) is None
    assert services.early_warning_test(observed=7, baseline_total=40) is None  # a little above normal


def test_a_tripled_week_is_flagged():
    expected, p = services.early_warning_test(observed=15, baseline_total=40)
    assert expected == 5.0 and p < services.ALPHA


def test_a_plot_with_very_few_incidents_is_not_flagged_by_chance():
    # 0-1 a month, then 2 or 3 in one week: unusual on paper, not evidence of a rise.
    assert services.early_warning_test(observed=2, baseline_total=1) is None
    assert services.early_warning_test(observed=3, baseline_total=2) is None
    assert services.early_warning_test(observed=4, baseline_total=0) is None


def _series(cast, weekly: list[int], node, actor) -> None:
    """Burglaries at `node`: weekly[-1] in the last 7 days to DAY, the others in the weeks before."""
    end = at(DAY.year, DAY.month, DAY.day, 12)
    for back, count in enumerate(reversed(weekly)):
        for i in range(count):
            when = end - dt.timedelta(weeks=back, hours=1 + i)
            backdate(
                record(cast, node=node, actor=actor, kind="incident", sub_kind="burglary", title="入室盗窃"),
                when,
            )


@pytest.mark.django_db
def test_the_scan_raises_one_draft_for_a_tripled_week_and_none_for_a_flat_plot(cast):
    _series(cast, [5] * 8 + [15], cast.plot_a1, cast.village_member)
    _series(cast, [5] * 9, cast.plot_b1, cast.township_b_staff)
    assert services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY) == 2  # the plot and its cell
    drafts = EarlyWarningDraft.objects.order_by("node__level")
    assert [(d.node_id, d.sub_kind, d.observed, d.baseline_total) for d in drafts] == [
        (cast.cell_a1.pk, "burglary", 15, 40),
        (cast.plot_a1.pk, "burglary", 15, 40),
    ]
    assert drafts[0].week == dt.date(2026, 5, 25) and drafts[0].township_id == cast.township_a.pk
    # The next night of the same week: no second draft.
    assert services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY) == 0
    assert EarlyWarningDraft.objects.count() == 2


@pytest.mark.django_db
def test_dismissing_needs_a_reason_and_the_draft_is_kept(cast, units):
    _series(cast, [1] * 8 + [9], cast.plot_a1, cast.village_member)
    services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY)
    draft = EarlyWarningDraft.objects.get(node=cast.plot_a1)
    with pytest.raises(ValidationError):
        services.draft_dismiss(actor=cast.township_a_staff, draft=draft, reason=" ")
    draft.refresh_from_db()
    assert draft.status == "draft"
    services.draft_dismiss(actor=cast.township_a_staff, draft=draft, reason="同一嫌疑人，已抓获")
    draft.refresh_from_db()
    assert (draft.status, draft.reason) == ("dismissed", "同一嫌疑人，已抓获")
    assert Case.objects.count() == 17


@pytest.mark.django_db
def test_another_township_sees_no_draft_and_the_township_does(cast):
    from rest_framework.test import APIClient

    _series(cast, [1] * 8 + [9], cast.plot_a1, cast.village_member)
    services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY)
    draft = EarlyWarningDraft.objects.get(node=cast.plot_a1)
    client = APIClient()
    client.force_authenticate(cast.township_b_staff)
    assert client.get(f"/api/v1/mechanisms/drafts/{draft.pk}/").status_code == 404
    client.force_authenticate(cast.township_a_staff)
    body = client.get(f"/api/v1/mechanisms/drafts/{draft.pk}/").json()
    assert [w["count"] for w in body["series"]] == [1] * 8 + [9]
