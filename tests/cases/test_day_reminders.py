"""Reminders one working day before a deadline and on its day: to the responsible person and unit of
the case and to each assisting unit for its part, each once whatever reruns."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases import services, supervision
from cases.calendar import WorkCalendar
from cases.models import AlertLevel, Reminded
from teams.models import InboxItem
from teams.services import membership_add

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)
TZ = ZoneInfo("Asia/Shanghai")


def _keys(user) -> list[str]:
    return list(
        InboxItem.objects.filter(user=user, kind="day_reminder").order_by("id").values_list("key", flat=True)
    )


def test_reminder_moments_skip_the_weekend_and_holidays():
    cal = WorkCalendar(tz=TZ, exceptions={dt.date(2026, 10, 1): False})
    # Due Monday 2026-11-30 15:00: the Friday before at opening, then Monday at opening.
    before, on_day = cal.reminder_moments(dt.datetime(2026, 11, 30, 15, 0, tzinfo=TZ))
    assert (before, on_day) == (
        dt.datetime(2026, 11, 27, 8, 30, tzinfo=TZ),
        dt.datetime(2026, 11, 30, 8, 30, tzinfo=TZ),
    )
    # Due Friday 2026-10-02: the day before is a holiday, so the Wednesday.
    before, _on = cal.reminder_moments(dt.datetime(2026, 10, 2, 10, 0, tzinfo=TZ))
    assert before == dt.datetime(2026, 9, 30, 8, 30, tzinfo=TZ)
    # Due before work starts: the day's reminder is the deadline itself, never after it.
    early = dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ)
    assert cal.reminder_moments(early)[1] == early


def test_day_before_and_on_the_day_reach_case_and_part_once_each(cast, units, case_a1):
    membership_add(actor=None, unit=units.justice, user=cast.township_b_staff)
    services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.police,
        responsible_person=cast.department_user,
        assists=[services.AssistSpec(unit=units.justice, task="法律援助")],
    )
    case = services.case_accept(actor=cast.department_user, case=case_a1)
    case.refresh_from_db()
    part = case.parts.get()
    assert case.day_before_at < case.on_day_at <= case.due_at
    assert part.day_before_at < part.on_day_at <= part.due_at
    t, seq = cast.ruian.pk, case.deadline_seq

    day_before = max(case.day_before_at, part.day_before_at) + MINUTE
    assert day_before < min(case.on_day_at, part.on_day_at)
    supervision.deadlines_scan(tenant_id=t, now=day_before)
    supervision.deadlines_scan(tenant_id=t, now=day_before)  # a rerun sends nothing more
    assert _keys(cast.department_user) == [f"day:{case.pk}:{seq}:1"]  # the person (and the police unit)
    assert _keys(cast.township_b_staff) == [f"day-part:{part.pk}:1"]  # the assisting unit's member

    on_day = max(case.on_day_at, part.on_day_at) + MINUTE
    assert on_day < min(case.due_at, part.due_at)
    supervision.deadlines_scan(tenant_id=t, now=on_day)
    supervision.deadlines_scan(tenant_id=t, now=on_day)
    assert _keys(cast.department_user) == [f"day:{case.pk}:{seq}:1", f"day:{case.pk}:{seq}:2"]
    assert _keys(cast.township_b_staff) == [f"day-part:{part.pk}:1", f"day-part:{part.pk}:2"]
    case.refresh_from_db()
    assert case.reminded == Reminded.ON_DAY

    # Past the deadline: orders, and no further day reminder.
    late = max(case.due_at, part.due_at) + MINUTE
    supervision.deadlines_scan(tenant_id=t, now=late)
    case.refresh_from_db()
    assert case.alert_level == AlertLevel.RED
    assert len(_keys(cast.department_user)) == 2 and len(_keys(cast.township_b_staff)) == 2


def test_a_late_scan_sends_only_the_reminder_of_the_day(cast, units, in_hand):
    in_hand.refresh_from_db()
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=in_hand.on_day_at + MINUTE)
    assert _keys(cast.department_user) == [f"day:{in_hand.pk}:{in_hand.deadline_seq}:2"]


def test_overdue_before_any_scan_sends_no_day_reminder(cast, units, in_hand):
    in_hand.refresh_from_db()
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=in_hand.due_at + MINUTE)
    in_hand.refresh_from_db()
    assert (in_hand.alert_level, in_hand.reminded) == (AlertLevel.RED, Reminded.ON_DAY)
    assert _keys(cast.department_user) == []
