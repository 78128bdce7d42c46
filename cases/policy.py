"""Deadlines from the city's time-limit policy and its working calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import calendar
from .models import Case, LimitUnit, Step, SupervisionPolicy, TimePolicy

# Used when the city has written no matching row: (limit, unit, yellow %, red %).
DEFAULT_LIMITS: dict[str, tuple[int, str, int, int]] = {
    Step.ACCEPTANCE: (1, LimitUnit.WORKING_DAYS, 80, 100),
    Step.HANDLING: (5, LimitUnit.WORKING_DAYS, 80, 100),
    Step.VERIFICATION: (2, LimitUnit.WORKING_DAYS, 80, 100),
}


@dataclass(frozen=True)
class Limit:
    minutes: int
    yellow_percent: int
    red_percent: int
    source: str  # "policy #id" or "default"
    binding: bool = False  # a typed deadline may not lie after this limit


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    yellow_at: dt.datetime
    red_at: dt.datetime
    minutes: int


def limit_for(case: Case, step: str, day_minutes: int = calendar.WORKDAY_MINUTES) -> Limit:
    """The most specific policy row for (step, kind, severity, tier); blanks match anything (one query).

    A limit in working days counts `day_minutes` (the city's working day) per day."""
    rows = list(
        TimePolicy.objects.filter(
            tenant_id=case.tenant_id,
            step=step,
            kind__in=["", case.kind],
            severity__in=["", case.severity],
            tier__in=["", case.tier],
        )
    )
    if rows:
        best = max(rows, key=lambda r: (bool(r.kind), bool(r.severity), bool(r.tier)))
        return Limit(
            calendar.limit_minutes(best.limit, best.unit, day_minutes),
            best.yellow_percent,
            best.red_percent,
            f"policy #{best.pk}",
            best.binding,
        )
    limit, unit, yellow, red = DEFAULT_LIMITS[step]
    return Limit(calendar.limit_minutes(limit, unit, day_minutes), yellow, red, "default")


def deadline_from(cal: calendar.WorkCalendar, start: dt.datetime, limit: Limit) -> Deadline:
    return Deadline(
        due_at=cal.add(start, limit.minutes),
        yellow_at=cal.add(start, limit.minutes * limit.yellow_percent // 100),
        red_at=cal.add(start, limit.minutes * limit.red_percent // 100),
        minutes=limit.minutes,
    )


def supervision_policy(tenant_id: int) -> SupervisionPolicy:
    """The city's grading thresholds and reply time (the defaults when it has set none; one query)."""
    found = SupervisionPolicy.objects.filter(tenant_id=tenant_id).first()
    return found or SupervisionPolicy(tenant_id=tenant_id)


@dataclass(frozen=True)
class Accepted:
    due_at: dt.datetime
    moved: bool  # True: the typed deadline gave way to a binding limit


def accepted_deadline(*, typed: dt.datetime, allowed: Deadline, limit: Limit) -> Accepted:
    """The handling deadline when a unit accepts a case whose dispatcher typed `typed`.

    The typed deadline is kept, unless the matching time limit is binding and ends earlier: then the
    limit wins. A non-binding limit never overrides what the dispatcher decided.
    """
    if limit.binding and typed > allowed.due_at:
        return Accepted(allowed.due_at, moved=True)
    return Accepted(typed, moved=False)
