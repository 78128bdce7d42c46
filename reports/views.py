"""Dashboard pages: /reports/ (the user's home node) and /reports/<node>/ (any node in scope).

Thin: the node comes through `grids.scoping` (out of scope is the same 404 as missing), every figure
from `reports.selectors`. The figures are rendered on the server; the charts and the map are drawn by
static/reports/dashboard.js from the `<script type="application/json">` block (no inline script).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from grids import scoping
from grids.models import GridNode
from ruian_grid.scoped import scoped_view

from . import selectors
from .payload import FIGURE_LABELS, OUTCOME_NAMES, dashboard_payload


def page(view):  # type: ignore[no-untyped-def]
    return scoped_view(login_required(view))


@page
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard of the user's home node (or of the first node they may see)."""
    home = getattr(request.user, "home_node_id", None)
    if home is None:
        top = scoping.top_nodes(request.user).first()
        if top is None:
            raise Http404
        home = top.pk
    target = scoping.get_node_or_404(request.user, home)
    query = f"?month={request.GET['month']}" if request.GET.get("month") else ""
    return redirect(f"/reports/{target.pk}/{query}")


@page
@require_GET
def node(request: HttpRequest, pk: int) -> HttpResponse:
    target: GridNode = scoping.get_node_or_404(request.user, pk)
    try:
        month = selectors.parse_month(request.GET.get("month"))
    except selectors.MonthError:
        month = selectors.parse_month(None)
    dash = selectors.dashboard(actor=request.user, node=target, month=month)
    data = dashboard_payload(dash)
    return render(
        request,
        "reports/dashboard.html",
        {
            "dash": dash,
            "data": data,
            "outcomes": [(name, FIGURE_LABELS[name], data["outcomes"][name]) for name in OUTCOME_NAMES],
            "columns": list(FIGURE_LABELS.items()),
            "rows": [
                (c, [(key, label, c[key]) for key, label in FIGURE_LABELS.items()]) for c in data["children"]
            ],
            "months": selectors.month_choices(),
            "month": data["month"],
            "ancestors": scoping.scope_nodes(request.user)
            .filter(scoping.ancestors_q(target))
            .order_by("level"),
        },
    )
