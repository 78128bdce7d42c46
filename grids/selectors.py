"""Reads of the grid, already scoped and already carrying what their pages need.

Household counts are sums of the per-plot tallies the registry keeps (`HouseholdTally`). Counts of
descendants come from the tree ranges (`scoping.descendants_at`, one correlated subquery
per kind of count), never from loading the nodes, so a page costs the same number of queries for a plot as for the city.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from . import scoping
from .models import GridNode, HouseholdTally, Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

    AnyUser = User | AnonymousUser


def _households_below(column: str) -> Coalesce:
    """Active households below each node: the sum of its plots' tallies (a few rows per plot, kept
    by the registry's services), not a count of every household below it."""
    inner = (
        HouseholdTally.objects.filter(tenant_id=OuterRef("tenant_id"), **{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(n=Sum("households"))
        .values("n")
    )
    return Coalesce(Subquery(inner, output_field=IntegerField()), 0)


HOUSEHOLD_COLUMN = {Level.CITY: "city", Level.TOWNSHIP: "township", Level.CELL: "cell", Level.PLOT: "plot"}


def with_counts(qs: QuerySet[GridNode], level: int | None) -> QuerySet[GridNode]:
    """Annotate cell, plot and household counts below each node.

    The household count uses the ancestor column for `level` (all nodes in `qs` at that level);
    with `level` None (mixed levels) it is left out.
    """
    qs = qs.annotate(
        cell_count=scoping.descendants_at(Level.CELL), plot_count=scoping.descendants_at(Level.PLOT)
    )
    if level is not None:
        qs = qs.annotate(household_count=_households_below(HOUSEHOLD_COLUMN[Level(level)]))
    return qs


def node_list(*, actor: AnyUser) -> QuerySet[GridNode]:
    return (
        scoping.scope_nodes(actor)
        .select_related("parent", "responsible", "tenant")
        .order_by(*scoping.TREE_ORDER)
    )


def node_get(*, actor: AnyUser, pk: object, perm: str = scoping.VIEW) -> GridNode:
    qs = scoping.scope_nodes(actor, perm).select_related("parent", "responsible", "tenant")
    return scoping.get_in_scope_or_404(with_counts(qs, None), pk=pk)


def node_children(*, actor: AnyUser, node: GridNode) -> QuerySet[GridNode]:
    """The children of a node the actor may see, with their counts (plots have none)."""
    if node.level >= Level.PLOT:
        return GridNode.objects.none()
    qs = (
        scoping.scope_nodes(actor)
        .filter(parent=node)
        .select_related("responsible")
        .order_by(*scoping.TREE_ORDER)
    )
    return with_counts(qs, node.level + 1)


def node_ancestors(*, actor: AnyUser, node: GridNode) -> QuerySet[GridNode]:
    """The node's ancestors the actor may see, top down (breadcrumbs stop at the actor's home)."""
    return scoping.scope_nodes(actor).filter(scoping.ancestors_q(node)).order_by(*scoping.TREE_ORDER)


def household_count(*, node: GridNode) -> int:
    """Active households below one node: the sum of its plots' tallies (one aggregate query)."""
    total = HouseholdTally.objects.filter(
        tenant_id=node.tenant_id, **{HOUSEHOLD_COLUMN[Level(node.level)]: node.pk}
    ).aggregate(n=Sum("households"))["n"]
    return total or 0


def home_node(*, actor: AnyUser) -> GridNode | None:
    """Where an actor's browsing starts: their home node if they may see it, else their first grant."""
    home_id = getattr(actor, "home_node_id", None)
    if home_id is not None:
        node = scoping.scope_nodes(actor).filter(pk=home_id).first()
        if node is not None:
            return node
    return scoping.top_nodes(actor).first()


def is_city_user(*, tenant_id: int, pk: int) -> bool:
    """Is `pk` a user of this city (who may be named a grid's responsible person)?"""
    return get_user_model().objects.filter(pk=pk, tenant_id=tenant_id).exists()


PICK_LIMIT = 20
ID_MAX = 2**63 - 1  # the largest key: a longer number is no id
PICKABLE_PERMS = frozenset({scoping.VIEW, "record_case", "manage_registry", "manage_cases"})


def node_search(
    *, actor: AnyUser, text: str, perm: str = scoping.VIEW, levels: tuple[int, ...] = ()
) -> list[GridNode]:
    """Up to PICK_LIMIT nodes in scope whose name contains `text` or whose code starts with it.

    Two queries whatever the size of the tree: the actor's grants (cached for the request) and the
    nodes themselves, each with its parent for telling two 第一片 apart.
    """
    text = text.strip()[:100]
    if not text or perm not in PICKABLE_PERMS:
        return []
    qs = scoping.scope_nodes(actor, perm).filter(Q(name__icontains=text) | Q(code__startswith=text))
    if levels:
        qs = qs.filter(level__in=levels)
    return list(qs.select_related("parent").order_by("level", *scoping.TREE_ORDER)[:PICK_LIMIT])


def node_by_label(
    *, actor: AnyUser, text: str, levels: tuple[int, ...] = (), allow_id: bool = True
) -> GridNode | None:
    """The node in scope a list filter names by its exact name or code (None when none or several).

    A number that is no code is taken as the node's id (so older links and API clients keep working);
    a code wins over an id.
    """
    text = text.strip()[:100]
    if not text:
        return None
    qs = scoping.scope_nodes(actor).filter(Q(name=text) | Q(code=text))
    if levels:
        qs = qs.filter(level__in=levels)
    found = list(qs[:2])
    if len(found) == 1:
        return found[0]
    if not found and text.isdigit() and allow_id and int(text) <= ID_MAX:
        # Links and API clients written before names: an internal id, still within scope.
        return (
            scoping.scope_nodes(actor)
            .filter(pk=int(text), **({"level__in": levels} if levels else {}))
            .first()
        )
    return None
