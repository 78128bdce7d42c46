"""The cases app's workbench panels, one per way a person meets cases.

- the dispatching platform (township and city staff and administrators: `manage_cases`): to dispatch,
  returned by the unit, to verify, deadline near, overdue;
- a responsible unit's staff (departments and offices): sent to the unit and not yet accepted, in
  hand, deadline near, overdue, assisting parts still open;
- a service-team member (records cases, dispatches none): their open cases and the open cases in
  the plots they are responsible for (the plots themselves are the people app's panel).

Each count is one COUNT over a partial index of open cases (`cases_open_by_*`) or the reporter and
person indexes, with the same filter as the list it opens (`selectors.queue_q`).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import scoping
from ruian_grid.workbench import Item, Panel, panel
from teams.units import units_of

from . import selectors


def _items(request: HttpRequest, names: list[str]) -> list[Item]:
    now = timezone.now()
    base = reverse("cases:list")
    found = []
    for name in names:
        queue = selectors.QUEUES[name]
        count = selectors.queue_count(request.user, name, now)  # one COUNT query each
        found.append(Item(str(queue.label), count, f"{base}?queue={name}", tone=queue.tone))
    return found


@panel("cases.managed", order=10)
def managed_cases(request: HttpRequest) -> Panel | None:
    if selectors.managed_q(request.user) is None:  # the manage_cases grants (one query, cached)
        return None
    return Panel(
        title=_("Cases at my tier"),
        items=_items(request, ["to_dispatch", "returned", "to_verify", "near", "overdue"]),
        order=10,
    )


@panel("cases.unit", order=20)
def unit_cases(request: HttpRequest) -> Panel | None:
    units = units_of(request.user)  # the person's units (one query, cached)
    if not units:
        return None
    return Panel(
        title=_("My unit's cases: %(units)s") % {"units": "、".join(u.name for u in units)},
        items=_items(request, ["unit_new", "unit_in_hand", "unit_near", "unit_overdue", "assisting"]),
        order=20,
    )


@panel("cases.mine", order=30)
def my_cases(request: HttpRequest) -> Panel | None:
    """A service-team member: records cases where they serve, dispatches none."""
    user = request.user
    if selectors.managed_q(user) is not None or not scoping.grants(user, "record_case"):
        return None
    # Their plots themselves (households, visits due) are the people app's panel; here, their cases.
    plots = selectors.my_plots(user)  # one query, cached for the my_plots count
    names = ["mine", "my_plots"] if plots else ["mine"]
    links = [(_("Record a case"), reverse("cases:new"))]
    return Panel(title=_("My cases"), items=_items(request, names), links=links, order=30)
