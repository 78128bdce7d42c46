"""Grid pages: from the user's home node down. Thin: selectors in, template out."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ruian_grid.scoped import scoped_view

from . import scoping, selectors


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


@scoped_view
@login_required
def node_search(request: HttpRequest) -> JsonResponse:
    """The grid picker's type-ahead: nodes in scope by name or code, capped, as JSON.

    `perm` names the right the chosen node must carry (recording a case asks for `record_case`);
    `level` narrows to some levels (comma-separated 0-3).
    """
    levels = tuple(
        int(bit) for bit in request.GET.get("level", "").split(",") if bit.strip().isdigit() and int(bit) <= 3
    )
    found = selectors.node_search(
        actor=request.user,
        text=request.GET.get("q", ""),
        perm=request.GET.get("perm", scoping.VIEW),
        levels=levels,
    )
    results = [
        {
            "id": node.pk,
            "name": node.name,
            "code": node.code,
            "level": node.level_label,
            "kind": str(node.get_kind_display()),
            "parent": node.parent.name if node.parent_id and node.parent else "",
        }
        for node in found
    ]
    return JsonResponse({"results": results, "capped": len(results) >= selectors.PICK_LIMIT})
