"""The cast's units (police, justice, the Shangwang and Jiusan offices) and helpers for the mechanisms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cases.models import Case
from tests.cases.conftest import record, units  # noqa: F401 - the units fixture, reused

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=SH)


def backdate(case: Case, when: dt.datetime) -> Case:
    """Cases are recorded now; tests of a past month move the row (not its workflow) back in time."""
    Case.objects.filter(pk=case.pk).update(created_at=when, updated_at=when)
    case.refresh_from_db()
    return case
