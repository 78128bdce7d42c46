"""Work-log sources of `teams` and of the registry below it: visits, registry changes (the
simple-history rows a person made) and the notes people add. One query each."""

from __future__ import annotations

from django.db.models import CharField, Q, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Level
from grids.registry.models import Building, Dwelling, Establishment, Household, Resident
from ruian_grid.worklog import ENTRY_LIMIT, Entry, LogQuery, source

from . import selectors
from .models import NoteKind

_HISTORY_TYPES = {"+": "created", "~": "changed", "-": "removed"}


def _grid_filter(query: LogQuery, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{scoping.LEVEL_COLUMN[Level(query.node.level)]}": query.node.pk})


@source("teams.visits")
def visits(query: LogQuery) -> list[Entry]:
    """Visits made that day (the day the phone says), by the person or in the office's grid."""
    qs = selectors.visits_visible(query.reader).filter(visited_on=query.day).prefetch_related(None)
    qs = qs.filter(visitor_id=query.person.pk) if query.person is not None else qs.filter(_grid_filter(query))
    return [
        Entry(
            at=v.created_at,
            kind="visit",
            label=_("Visit to household %(number)s") % {"number": v.household.number},
            detail=" ".join(x for x in (v.get_outcome_display(), v.seen[:120]) if x),
            url=reverse("teams:visit", args=[v.pk]),
            actor=str(v.visitor),
        )
        for v in qs[:ENTRY_LIMIT]
    ]


_TRACKED = (Household, Resident, Building, Dwelling, Establishment)


@source("grids.registry_changes")
def registry_changes(query: LogQuery) -> list[Entry]:
    """Changes to the grid database (households, residents, buildings, dwellings, establishments): one
    UNION over their history tables. Only what changed is shown, never the personal numbers."""
    parts = []
    for model in _TRACKED:
        history = model.history.model  # type: ignore[attr-defined]
        qs = scoping.scope_rows(query.reader, scoping.VIEW, history.objects.all()).filter(
            history_date__gte=query.start, history_date__lt=query.end
        )
        qs = (
            qs.filter(history_user_id=query.person.pk)
            if query.person is not None
            else qs.filter(_grid_filter(query))
        )
        parts.append(
            qs.order_by()
            .annotate(model_name=Value(model._meta.model_name, output_field=CharField()))
            .values_list("history_date", "history_type", "id", "model_name", "history_user_id")
        )
    first, *rest = parts
    rows = list(first.union(*rest, all=True).order_by("history_date")[:ENTRY_LIMIT])
    names = {m._meta.model_name: m._meta.verbose_name for m in _TRACKED}
    urls = {"household": "registry:household"}
    return [
        Entry(
            at=at,
            kind="registry",
            label=_("%(what)s #%(id)s %(how)s")
            % {"what": names[name], "id": pk, "how": _(_HISTORY_TYPES.get(kind, "changed"))},
            url=reverse(urls[name], args=[pk]) if name in urls and kind != "-" else "",
        )
        for at, kind, pk, name, _user in rows
    ]


@source("teams.notes")
def notes(query: LogQuery) -> list[Entry]:
    """The notes and annotations written in this log for this day."""
    qs = selectors.log_notes(reader=query.reader, day=query.day, person=query.person, node=query.node)
    return [
        Entry(
            at=n.created_at,
            kind=n.kind,
            label=n.text,
            detail=_("edited %(at)s") % {"at": n.edited_at.strftime("%H:%M")} if n.edited_at else "",
            actor=str(n.author),
            note_id=n.pk,
            editable=n.kind == NoteKind.NOTE and n.author_id == query.reader.pk and selectors.day_open(n.day),
        )
        for n in qs[:ENTRY_LIMIT]
    ]
