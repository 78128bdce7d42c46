"""Working time on a city's calendar, in the city's time zone (Asia/Shanghai).

A working day is Monday to Friday unless the city lists it as a holiday, plus the weekend days it
lists as make-up working days (调休). Working hours are the city's (`WorkingHours` in the admin: a
start, an end and an optional lunch break), WORKDAY_START to WORKDAY_END when it has set none; a
limit in working days counts the city's working minutes per day, so "2 working days" from Friday
10:00 ends Tuesday 10:00 (over a plain weekend).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .models import CalendarDay, LimitUnit, WorkingHours

WORKDAY_START = dt.time(8, 30)
WORKDAY_END = dt.time(17, 30)
WORKDAY_MINUTES = (WORKDAY_END.hour * 60 + WORKDAY_END.minute) - (
    WORKDAY_START.hour * 60 + WORKDAY_START.minute
)
_MAX_DAYS = 3660  # ten years: no limit in the policy table can reach this


Window = tuple[dt.time, dt.time]
DEFAULT_WINDOWS: tuple[Window, ...] = ((WORKDAY_START, WORKDAY_END),)


def windows_of(hours: WorkingHours | None) -> tuple[Window, ...]:
    """The working periods of a day: the morning and afternoon around a lunch break, or one period."""
    if hours is None:
        return DEFAULT_WINDOWS
    if hours.lunch_start and hours.lunch_end:
        return ((hours.start, hours.lunch_start), (hours.lunch_end, hours.end))
    return ((hours.start, hours.end),)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    exceptions: dict[dt.date, bool]
    windows: tuple[Window, ...] = DEFAULT_WINDOWS

    @property
    def day_minutes(self) -> int:
        """Working minutes in one working day."""
        return sum(_minutes(b) - _minutes(a) for a, b in self.windows)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def _periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        return [
            (dt.datetime.combine(day, a, tzinfo=self.tz), dt.datetime.combine(day, b, tzinfo=self.tz))
            for a, b in self.windows
        ]

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The moment `minutes` working minutes after `start`."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        moment = start.astimezone(self.tz)
        left = dt.timedelta(minutes=minutes)
        day = moment.date()
        for _i in range(_MAX_DAYS):
            if self.is_working_day(day):
                for opens, closes in self._periods(day):
                    begin = max(moment, opens)
                    if begin < closes:
                        available = closes - begin
                        if left <= available:
                            return begin + left
                        left -= available
            day += dt.timedelta(days=1)
        raise ValueError("limit too far in the future")

    def opening(self, day: dt.date) -> dt.datetime:
        """When work starts on `day` (its first working period)."""
        return dt.datetime.combine(day, self.windows[0][0], tzinfo=self.tz)

    def working_day_before(self, day: dt.date) -> dt.date:
        """The last working day before `day`."""
        for _i in range(_MAX_DAYS):
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day found")

    def reminder_moments(self, due_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The two reminders of a deadline: when work starts on the working day before the day it
        falls on, and when work starts on that day (never later than the deadline itself)."""
        day = due_at.astimezone(self.tz).date()
        on_day = min(self.opening(day), due_at)
        return min(self.opening(self.working_day_before(day)), on_day), on_day

    def minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working minutes from `start` to `end` (0 when end is not after start)."""
        a, b = start.astimezone(self.tz), end.astimezone(self.tz)
        if b <= a:
            return 0
        total = dt.timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for opens, closes in self._periods(day):
                    lo, hi = max(a, opens), min(b, closes)
                    if hi > lo:
                        total += hi - lo
            day += dt.timedelta(days=1)
        return int(total.total_seconds() // 60)


def load(tenant_id: int, time_zone: str, around: dt.datetime) -> WorkCalendar:
    """The tenant's working hours and calendar exceptions from shortly before `around` (two queries)."""
    tz = ZoneInfo(time_zone)
    first = around.astimezone(tz).date() - dt.timedelta(days=400)
    rows = CalendarDay.objects.filter(tenant_id=tenant_id, date__gte=first).values_list("date", "is_working")
    hours = WorkingHours.objects.filter(tenant_id=tenant_id).first()
    return WorkCalendar(tz=tz, exceptions=dict(rows), windows=windows_of(hours))


def limit_minutes(limit: int, unit: str, day_minutes: int = WORKDAY_MINUTES) -> int:
    """A limit in working minutes; a working day is the city's `day_minutes`."""
    return limit * (day_minutes if unit == LimitUnit.WORKING_DAYS else 60)
