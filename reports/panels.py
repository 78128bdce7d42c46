"""The workbench panel of city and township users: a link to their dashboard."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Level
from ruian_grid.workbench import Panel, panel


@panel("reports.dashboard", order=50)
def dashboard(request: HttpRequest) -> Panel | None:
    """Shown to users whose home grid is the city or a township they may see (no query)."""
    home = getattr(request.user, "home_node", None)
    if home is None or home.level > Level.TOWNSHIP or not scoping.can(request.user, scoping.VIEW, home):
        return None
    return Panel(
        title=_("Reports"),
        links=[
            (_("Dashboard of %s") % home.name, reverse("reports:node", args=[home.pk])),
            (_("Assessment rounds"), reverse("reports:rounds")),
        ],
        order=50,
    )
