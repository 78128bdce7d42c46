"""Working time on the city's calendar: weekends, listed holidays, make-up working days (调休)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases import calendar, policy
from cases.calendar import WorkCalendar
from cases.models import CalendarDay, LimitUnit, Step, TimePolicy

from .conftest import record

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def plain() -> WorkCalendar:
    return WorkCalendar(tz=SH, exceptions={})


def test_working_hours_roll_over_to_next_morning():
    # Monday 2026-11-23 16:30 + 2 working hours = 1 h today + 1 h Tuesday from 08:30
    assert plain().add(at(2026, 11, 23, 16, 30), 120) == at(2026, 11, 24, 9, 30)


def test_weekend_is_skipped():
    # Friday 10:00 + 2 working days = Tuesday 10:00
    assert plain().add(at(2026, 11, 27, 10), calendar.limit_minutes(2, LimitUnit.WORKING_DAYS)) == at(
        2026, 12, 1, 10
    )


def test_start_outside_hours_counts_from_next_opening():
    # Saturday night + 1 working hour = Monday 09:30
    assert plain().add(at(2026, 11, 28, 22), 60) == at(2026, 11, 30, 9, 30)


def test_holidays_and_make_up_days():
    # National Day week 2026: Oct 1-7 off; Saturday Oct 10 is a make-up working day.
    exceptions = {dt.date(2026, 10, d): False for d in range(1, 8)}
    exceptions[dt.date(2026, 10, 10)] = True
    cal = WorkCalendar(tz=SH, exceptions=exceptions)
    # Wednesday Sep 30 17:00 + 1 working hour: 30 min on Sep 30, then Thursday Oct 8 from 08:30
    assert cal.add(at(2026, 9, 30, 17), 60) == at(2026, 10, 8, 9)
    # Friday Oct 9 17:00 + 1 h: the make-up Saturday counts
    assert cal.add(at(2026, 10, 9, 17), 60) == at(2026, 10, 10, 9)
    assert cal.is_working_day(dt.date(2026, 10, 10)) and not cal.is_working_day(dt.date(2026, 10, 5))


def test_minutes_between_inverts_add():
    cal = plain()
    start = at(2026, 11, 26, 11, 15)
    for minutes in (0, 1, 59, 540, 541, 2000, 5400):
        assert cal.minutes_between(start, cal.add(start, minutes)) == minutes


def test_utc_input_is_read_in_shanghai():
    # 01:00 UTC is 09:00 in Shanghai on a Monday
    start = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    assert plain().add(start, 30) == at(2026, 11, 23, 9, 30)


@pytest.mark.django_db
def test_most_specific_policy_wins_and_calendar_rows_are_used(cast, units):
    TimePolicy.objects.create(tenant=cast.ruian, step=Step.ACCEPTANCE, limit=3, unit=LimitUnit.WORKING_DAYS)
    TimePolicy.objects.create(
        tenant=cast.ruian,
        step=Step.ACCEPTANCE,
        kind="hazard",
        severity="critical",
        limit=2,
        unit=LimitUnit.WORKING_HOURS,
    )
    case = record(cast, kind="hazard", sub_kind="fire", severity="critical")
    assert policy.limit_for(case, Step.ACCEPTANCE).minutes == 120
    other = record(cast)
    assert policy.limit_for(other, Step.ACCEPTANCE).minutes == 3 * calendar.WORKDAY_MINUTES
    assert policy.limit_for(other, Step.HANDLING).source == "default"
    CalendarDay.objects.create(tenant=cast.ruian, date=dt.date(2026, 10, 10), is_working=True, name="调休")
    loaded = calendar.load(cast.ruian.pk, "Asia/Shanghai", at(2026, 10, 1))
    assert loaded.is_working_day(dt.date(2026, 10, 10))


@pytest.mark.django_db
def test_deadline_warning_thresholds(cast, units):
    TimePolicy.objects.create(
        tenant=cast.ruian, step=Step.ACCEPTANCE, limit=10, unit=LimitUnit.WORKING_HOURS, yellow_percent=50
    )
    case = record(cast)
    cal = calendar.load(cast.ruian.pk, "Asia/Shanghai", case.created_at)
    assert cal.minutes_between(case.step_started_at, case.yellow_at) == 300
    assert cal.minutes_between(case.step_started_at, case.due_at) == 600
    assert case.red_at == case.due_at


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31)),
    minutes=st.integers(min_value=0, max_value=20 * 540),
    off=st.sets(st.integers(min_value=0, max_value=364), max_size=30),
    on=st.sets(st.integers(min_value=0, max_value=364), max_size=10),
)
def test_add_then_measure_gives_back_the_minutes(start, minutes, off, on):
    exceptions = {dt.date(2026, 1, 1) + dt.timedelta(days=d): False for d in off}
    exceptions.update({dt.date(2026, 1, 1) + dt.timedelta(days=d): True for d in on})
    cal = WorkCalendar(tz=SH, exceptions=exceptions)
    begin = start.replace(tzinfo=SH)
    due = cal.add(begin, minutes)
    assert due >= begin
    assert cal.minutes_between(begin, due) == minutes
    if minutes:
        local = due.astimezone(SH)
        assert cal.is_working_day(local.date())
        assert calendar.WORKDAY_START < local.time() <= calendar.WORKDAY_END
