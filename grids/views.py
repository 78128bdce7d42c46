"""Grid pages: from the user's home node down. Thin: selectors in, template out."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ruian_grid.scoped import scoped_view

from . import selectors


@scoped_view
@login_required
def node_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A node: its kind, code, breadcrumbs down from the user's top node, children with counts."""
    node = selectors.node_get(actor=request.user, pk=pk)
    children = list(selectors.node_children(actor=request.user, node=node))
    context = {
        "node": node,
        "ancestors": list(selectors.node_ancestors(actor=request.user, node=node)),
        "children": children,
        "household_count": selectors.household_count(node=node),
    }
    return render(request, "grids/node.html", context)
