"""Template filters for case pages: durations and working time in words."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from cases.calendar import WORKDAY_MINUTES

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Elapsed seconds as days, hours and minutes ("—" for none)."""
    if not seconds:
        return "—"
    minutes = int(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%d d") % days)
    if hours:
        parts.append(_("%d h") % hours)
    if mins or not parts:
        parts.append(_("%d min") % mins)
    return " ".join(parts)


@register.filter
def working_time(minutes: int | None) -> str:
    """Working minutes as working days and hours ("—" for none)."""
    if not minutes:
        return "—"
    days, rest = divmod(int(minutes), WORKDAY_MINUTES)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%d working days") % days)
    if hours:
        parts.append(_("%d working hours") % hours)
    if mins:
        parts.append(_("%d min") % mins)
    return " ".join(parts)
