"""The issue's bad input, through the pages (the API refusals are tested beside each mechanism): a
review of a month that has not ended, a warning with no target or ending before it starts, a
meeting decision with no owner, an acknowledgement for a cell outside the warning's subtree. Each is
refused with a message in Chinese and writes nothing; the same request made right then succeeds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mechanisms import services
from mechanisms.models import Decision, DisputeReview, SecurityWarning, WarningAck

pytestmark = pytest.mark.django_db


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_a_review_of_a_month_not_ended_is_refused_on_the_page(client, cast):
    client.force_login(cast.township_a_staff)
    today = timezone.localdate()
    page = client.post(
        "/mechanisms/reviews/", {"node": cast.township_a.pk, "month": today.isoformat()}, follow=True
    )
    assert "尚未结束" in _messages(page)
    assert not DisputeReview.objects.exists()
    page = client.post(
        "/mechanisms/reviews/", {"node": cast.township_a.pk, "month": "2026-01-01"}, follow=True
    )
    assert DisputeReview.objects.filter(node=cast.township_a, month=dt.date(2026, 1, 1)).exists()


@pytest.mark.parametrize(
    ("change", "text"),
    [({"node": ""}, "请选择预警的目标网格"), ({"ends_at": "before"}, "截止时间必须晚于开始时间")],
)
def test_a_warning_without_target_or_ending_before_it_starts_is_refused_on_the_page(
    client, cast, change, text
):
    client.force_login(cast.township_a_staff)
    start = timezone.now() + dt.timedelta(days=1)
    body = {"node": cast.township_a.pk, "level": "blue", "title": "提示", "measures": "注意防范",
            "starts_at": _local(start), "ends_at": _local(start + dt.timedelta(days=1))}  # fmt: skip
    body.update(change)
    if body["ends_at"] == "before":
        body["ends_at"] = _local(start - dt.timedelta(hours=1))
    page = client.post("/mechanisms/warnings/", body, follow=True)
    assert text in _messages(page)
    assert not SecurityWarning.objects.exists()


def test_a_decision_without_an_owner_is_refused_on_the_meeting_page(client, cast, units):
    meeting = services.meeting_schedule(
        actor=cast.township_a_staff, node=cast.township_a, title="综治工作例会",
        starts_at=timezone.now() + dt.timedelta(days=1), unit_ids=[units.police.pk],
    )  # fmt: skip
    client.force_login(cast.township_a_staff)
    due = _local(timezone.now() + dt.timedelta(days=3))
    page = client.post(
        f"/mechanisms/meetings/{meeting.pk}/", {"do": "decision", "text": "整治", "due_at": due}, follow=True
    )
    assert "责任单位" in _messages(page)
    assert not Decision.objects.exists()
    body = {"do": "decision", "text": "整治", "due_at": due, "owner": units.police.pk}
    client.post(f"/mechanisms/meetings/{meeting.pk}/", body, follow=True)
    assert Decision.objects.filter(meeting=meeting, owner=units.police).exists()


def test_an_acknowledgement_for_a_cell_outside_the_warning_is_refused_on_the_page(client, cast):
    now = timezone.now()
    warning = services.warning_publish(
        actor=cast.township_a_staff, node=cast.cell_a1, level="yellow", title="入室盗窃高发",
        measures="加强夜间巡防", starts_at=now, ends_at=now + dt.timedelta(days=7),
    )  # fmt: skip
    client.force_login(cast.city_admin)
    page = client.post(f"/mechanisms/warnings/{warning.pk}/", {"cell": cast.cell_b1.pk}, follow=True)
    assert "不在该预警的范围内" in _messages(page)
    assert not WarningAck.objects.exists()
    client.post(f"/mechanisms/warnings/{warning.pk}/", {"cell": cast.cell_a1.pk}, follow=True)
    assert WarningAck.objects.filter(warning=warning, cell=cast.cell_a1).exists()
