"""Per-city working hours with a lunch break, across midnight, a weekend and a make-up working day."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from cases import calendar, supervision
from cases.models import CalendarDay, DeadlineAlert, SupervisionOrder, SupervisionPolicy, WorkingHours
from teams.models import InboxItem

from .conftest import record

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_deadline_crosses_midnight_a_weekend_and_a_make_up_day(cast):
    WorkingHours.objects.create(
        tenant=cast.ruian,
        start=dt.time(8, 0),
        end=dt.time(17, 0),
        lunch_start=dt.time(12, 0),
        lunch_end=dt.time(13, 30),
    )
    # Saturday 2026-12-05 is a make-up working day (调休); Sunday is not.
    CalendarDay.objects.create(tenant=cast.ruian, date=dt.date(2026, 12, 5), is_working=True, name="调休")
    cal = calendar.load(cast.ruian.pk, "Asia/Shanghai", dt.datetime(2026, 12, 4, tzinfo=SH))
    assert cal.day_minutes == 450  # 08:00-12:00 and 13:30-17:00
    friday_evening = dt.datetime(2026, 12, 4, 16, 0, tzinfo=SH)
    # 1 h on Friday, then over midnight to Saturday (a working day): 3 h in the morning lunch excluded ...
    assert cal.add(friday_evening, 60 + 240 + 30) == dt.datetime(2026, 12, 5, 14, 0, tzinfo=SH)
    # ... and a full day more skips Sunday to Monday.
    assert cal.add(friday_evening, 60 + 450 + 60) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=SH)
    assert cal.minutes_between(friday_evening, dt.datetime(2026, 12, 7, 9, 0, tzinfo=SH)) == 570
    # A limit in working days counts the city's day.
    assert calendar.limit_minutes(2, "days", cal.day_minutes) == 900


def test_new_cases_use_the_citys_hours(cast, units):
    WorkingHours.objects.create(tenant=cast.ruian, start=dt.time(9, 0), end=dt.time(11, 0))
    case = record(cast)
    local = case.due_at.astimezone(SH)
    assert dt.time(9, 0) < local.time() <= dt.time(11, 0)


def test_working_day_that_ends_before_it_starts_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        WorkingHours(tenant=cast.ruian, start=dt.time(17, 0), end=dt.time(8, 0)).full_clean()
    assert "结束" in str(exc.value.message_dict["end"])
    with pytest.raises(ValidationError):
        WorkingHours(
            tenant=cast.ruian,
            start=dt.time(8, 0),
            end=dt.time(17, 0),
            lunch_start=dt.time(13, 0),
            lunch_end=dt.time(12, 0),
        ).full_clean()
    assert not WorkingHours.objects.exists()
    WorkingHours(tenant=cast.ruian, start=dt.time(8, 0), end=dt.time(17, 0)).full_clean()


def test_thresholds_that_do_not_increase_are_refused(cast):
    with pytest.raises(ValidationError) as exc:
        SupervisionPolicy(
            tenant=cast.ruian, yellow_after_hours=24, red_after_hours=8, reply_hours=8
        ).full_clean()
    assert "递增" in str(exc.value.message_dict["red_after_hours"])
    SupervisionPolicy(tenant=cast.ruian, yellow_after_hours=8, red_after_hours=24, reply_hours=8).full_clean()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_write_each_thing_once(cast, units):
    cases = [record(cast) for _ in range(12)]
    late = max(c.due_at for c in cases) + dt.timedelta(minutes=1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late, batch=3)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert DeadlineAlert.objects.filter(level=2).count() == 12
    assert SupervisionOrder.objects.count() == 12
    assert InboxItem.objects.filter(kind="supervision_order", user=cast.village_member).count() == 12
    assert supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late).advanced == 0
