"""The workbench panel of a service-team member: their plots and the households due a visit."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from ruian_grid.workbench import Item, Panel, panel

from . import selectors


@panel("teams.my_plots", order=5)
def my_plots(request: HttpRequest) -> Panel | None:
    """Shown to people who hold a plot now (cadences + one query)."""
    plots = selectors.my_assignments(actor=request.user)
    if not plots:
        return None
    field = reverse("teams:my_plots")
    due = sum(a.due_count for a in plots)
    return Panel(
        title=_("My plots"),
        items=[
            Item(_("Plots"), len(plots), field),
            Item(_("Households"), sum(a.household_count for a in plots), field),
            Item(_("Visited this month"), sum(a.visited_this_month for a in plots), field),
            Item(_("Due a visit"), due, field + "#due-list", tone="warn" if due else ""),
        ],
        links=[(_("Record a visit"), reverse("teams:visit_form"))],
        order=5,
    )


@panel("teams.coverage", order=40)
def coverage(request: HttpRequest) -> Panel | None:
    """For township and city users: a link to the coverage of their home grid."""
    from grids import scoping
    from grids.models import Level

    home = getattr(request.user, "home_node", None)
    if home is None or home.level > Level.CELL or not scoping.can(request.user, "assign_plots", home):
        return None
    return Panel(
        title=_("A person on every plot"),
        links=[(_("Coverage of %s") % home.name, reverse("teams:coverage", args=[home.pk]))],
        order=40,
    )


@panel("teams.inbox", order=1)
def inbox(request: HttpRequest) -> Panel | None:
    """Everyone signed in: the unread items of their inbox (one COUNT over the unread index)."""
    if not request.user.is_authenticated:
        return None
    unread = selectors.inbox_unread_count(request.user)
    url = reverse("teams:inbox")
    return Panel(
        title=_("Inbox"),
        items=[Item(_("Unread"), unread, url + "?unread=1", tone="warn" if unread else "")],
        links=[(_("Open the inbox"), url)],
        order=1,
    )
