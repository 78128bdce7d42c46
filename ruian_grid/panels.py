"""The workbench's own panel: for administrators, the way to the admin and the grid tree."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from .workbench import Panel, panel


@panel("core.admin", order=900)
def administration(request: HttpRequest) -> Panel | None:
    if not request.user.is_staff:
        return None
    return Panel(
        title=_("Administration"),
        links=[(_("Admin"), reverse("admin:index")), (_("Grid"), reverse("grid_home"))],
        order=900,
    )
