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


@panel("reports.files", order=55)
def performance_files(request: HttpRequest) -> Panel | None:
    """Everyone signed in reads their own performance file; those with a grid grant, their grid's
    cadres; the city and the member departments, the yearly work reports (cached rights only)."""
    user = request.user
    if not user.is_authenticated or scoping.tenant_of(user) is None:
        return None
    from .work_reports import city_wide, reporting_units

    links = [(_("My performance file"), reverse("reports:cadre_file", args=[user.pk]))]
    if scoping.grants(user, scoping.VIEW):
        links.append((_("Performance files"), reverse("reports:cadres")))
    if city_wide(user) or reporting_units(user):
        links.append((_("Work reports"), reverse("reports:work_reports")))
    return Panel(title=_("Performance files"), links=links, order=55)
