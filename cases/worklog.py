"""Work-log source: the case timeline entries a person acted in, or that happened in an office's grid."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Level
from ruian_grid.worklog import ENTRY_LIMIT, Entry, LogQuery, source

from . import selectors
from .models import CaseEvent


@source("cases.events")
def case_events(query: LogQuery) -> list[Entry]:
    """One query: timeline entries of cases the reader may see, by the person or in the grid."""
    visible = selectors.cases_visible(query.reader).values("pk")
    qs = CaseEvent.objects.filter(case__in=visible, at__gte=query.start, at__lt=query.end)
    if query.person is not None:
        qs = qs.filter(actor_id=query.person.pk)
    else:
        qs = qs.filter(**{f"case__{scoping.LEVEL_COLUMN[Level(query.node.level)]}": query.node.pk})
    rows = qs.select_related("case", "actor").order_by("at", "id")[:ENTRY_LIMIT]
    return [
        Entry(
            at=e.at,
            kind="case",
            label=_("%(action)s: %(case)s") % {"action": e.label, "case": e.case},
            detail=(timezone.localtime(e.at).strftime("%H:%M") + " " + (e.note or "")[:200]).strip(),
            url=reverse("cases:detail", args=[e.case_id]),
            actor=str(e.actor) if e.actor else "",
        )
        for e in rows
    ]
