"""What a user may see: the one place that turns (user, permission) into a filter.

Rights are django-guardian object permissions on grid nodes, held through the direct foreign-key
tables, and hold for the granted node's whole subtree. They are never copied down the tree. This
module alone reads `tree_id`/`lft`/`rght`:

- grid nodes are filtered by the granted subtrees' ranges;
- data rows (households, cases, ...) by the ancestor column (`city`, `township`, `cell`, `plot`) that
  matches the granted node's level, which every row carries from creation.

Everything is also limited to the user's tenant, so a grant can never reach another city. Denied by
default: no grant, no rows. The grants come from one query, kept on the user object for the rest of
the request and in the cache under the user's access version between requests (`grids.access`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from . import access
from .models import GridNode, GridNodeGroupPermission, GridNodeUserPermission, Level

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

    AnyUser: TypeAlias = User | AnonymousUser

M = TypeVar("M", bound=Model)

VIEW = "view_gridnode"
LEVEL_COLUMN = {
    Level.CITY: "city_id",
    Level.TOWNSHIP: "township_id",
    Level.CELL: "cell_id",
    Level.PLOT: "plot_id",
}
TREE_ORDER = ("tree_id", "lft")


@dataclass(frozen=True)
class Grant:
    node_id: int
    tree_id: int
    lft: int
    rght: int
    level: int

    def covers(self, node: GridNode) -> bool:
        return self.tree_id == node.tree_id and self.lft <= node.lft and node.rght <= self.rght


def codename(perm: str) -> str:
    return perm.rsplit(".", 1)[-1]


def is_unrestricted(user: AnyUser) -> bool:
    """Platform superusers stand outside every tenant and see all of them."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def grants(user: AnyUser, perm: str) -> tuple[Grant, ...]:
    """The outermost granted nodes for `perm`, in the user's tenant.

    Every right of the user is read in one query the first time any is asked for, then kept for the
    request on the user object and between requests in the cache under the user's access version
    (`grids.access`): a grant, a membership or a tree change gives the user a new version.
    """
    tenant_id = tenant_of(user)
    if not (user.is_authenticated and user.is_active) or tenant_id is None:
        return ()
    held: dict[str, tuple[Grant, ...]] = access.remembered(
        user, "grants", lambda: _read_grants(user, tenant_id)
    )
    return held.get(codename(perm), ())


def _read_grants(user: AnyUser, tenant_id: int) -> dict[str, tuple[Grant, ...]]:
    """Every right the user holds on nodes of their tenant, directly or through a group, as the
    outermost granted nodes per right (one query, driven by the user's permission rows)."""
    columns = (
        "permission__codename",
        "content_object_id",
        "content_object__tree_id",
        "content_object__lft",
        "content_object__rght",
        "content_object__level",
    )
    common: dict[str, Any] = {
        "content_object__tenant_id": tenant_id,
        "permission__content_type__app_label": "grids",
    }
    owner: Any = user.pk
    direct = GridNodeUserPermission.objects.filter(user_id=owner, **common).values_list(*columns)
    via_group = GridNodeGroupPermission.objects.filter(group__user=owner, **common).values_list(*columns)
    by_name: dict[str, list[Grant]] = {}
    for name, *row in sorted(direct.union(via_group, all=True), key=lambda r: (r[0], r[2], r[3])):
        grant = Grant(*row)
        kept = by_name.setdefault(name, [])
        # Ordered by lft: a grant inside the previous kept one adds nothing.
        last = kept[-1] if kept else None
        if last and last.tree_id == grant.tree_id and last.lft <= grant.lft and grant.rght <= last.rght:
            continue
        kept.append(grant)
    return {name: tuple(kept) for name, kept in by_name.items()}


def tenant_of(user: AnyUser) -> int | None:
    """The user's tenant id; None for anonymous visitors and platform superusers."""
    return getattr(user, "tenant_id", None)


def forget(user: AnyUser) -> None:
    """After rights or the tree changed outside the services (a test, a shell) or under this user
    object (a tree write in this request): give the user a new access version, so their grants
    are read afresh here and in every later request."""
    access.access_changed(users=[user])


def nodes_filter(user: AnyUser, perm: str = VIEW) -> Q | None:
    """The Q for grid nodes in scope, or None when nothing is.

    The granted nodes' ranges are read inside the same statement as the rows (an EXISTS on their
    ids), not from the cached grants: a tree write committed since the grants were read shifts
    lft/rght, and comparing fresh rows with stale ranges would wrongly keep or drop nodes.
    """
    if is_unrestricted(user):
        return Q()
    found = grants(user, perm)
    if not found:
        return None
    covering = GridNode.objects.filter(
        pk__in=[g.node_id for g in found],
        tree_id=OuterRef("tree_id"),
        lft__lte=OuterRef("lft"),
        rght__gte=OuterRef("rght"),
    )
    return Q(tenant_id=tenant_of(user)) & Q(Exists(covering))


def rows_filter(user: AnyUser, perm: str = VIEW, prefix: str = "") -> Q | None:
    """The Q for data rows carrying ancestor columns, or None when nothing is in scope."""
    if is_unrestricted(user):
        return Q()
    found = grants(user, perm)
    if not found:
        return None
    by_column: dict[str, list[int]] = {}
    for g in found:
        by_column.setdefault(LEVEL_COLUMN[Level(g.level)], []).append(g.node_id)
    columns = Q()
    for column, ids in by_column.items():
        columns |= Q(**{f"{prefix}{column}__in": ids}) if len(ids) > 1 else Q(**{f"{prefix}{column}": ids[0]})
    return Q(**{f"{prefix}tenant_id": tenant_of(user)}) & columns


def scope_nodes(user: AnyUser, perm: str = VIEW, qs: QuerySet[GridNode] | None = None) -> QuerySet[GridNode]:
    qs = GridNode.objects.all() if qs is None else qs
    q = nodes_filter(user, perm)
    return qs.none() if q is None else qs.filter(q)


def scope_rows(user: AnyUser, perm: str, qs: QuerySet[M]) -> QuerySet[M]:
    """Limit a queryset of a `GridScoped` model to the rows in the user's granted subtrees."""
    q = rows_filter(user, perm)
    return qs.none() if q is None else qs.filter(q)


def can(user: AnyUser, perm: str, node: GridNode) -> bool:
    """May `user` do `perm` at `node`? From the cached grants, without a query: for what a page
    shows (a button, a link). Services that change data ask `can_now`."""
    if is_unrestricted(user):
        return True
    if node.tenant_id != tenant_of(user):
        return False
    return any(g.covers(node) for g in grants(user, perm))


def can_now(user: AnyUser, perm: str, node: GridNode) -> bool:
    """`can`, answered by the database in one statement with the granted nodes' current ranges.

    `can` compares cached ranges with a node loaded at another moment; a tree write committed in
    between (another request redrawing the grid) can shift either. Services that change data ask
    this instead: one query, right whatever the tree did meanwhile.
    """
    if is_unrestricted(user):
        return True
    q = nodes_filter(user, perm)
    return q is not None and GridNode.objects.filter(q, pk=node.pk).exists()


def user_grants(user: AnyUser) -> list[tuple[str, GridNode]]:
    """Every (right, node) granted to `user`, directly or through a group (one query each)."""
    found: list[tuple[str, GridNode]] = []
    for model, owner in ((GridNodeUserPermission, "user_id"), (GridNodeGroupPermission, "group__user")):
        rows = model.objects.filter(**{owner: user.pk}, permission__content_type__app_label="grids")
        for row in rows.select_related("permission", "content_object"):
            found.append((row.permission.codename, row.content_object))
    return found


def ancestor_ids(user: AnyUser, perm: str = VIEW) -> list[int] | None:
    """Ids of the nodes at or above the user's granted nodes: the tiers whose notices reach them
    (a warning or guidance published above is read below). None for platform superusers (all)."""
    if is_unrestricted(user):
        return None
    found = grants(user, perm)
    if not found:
        return []
    q = Q(pk__in=[g.node_id for g in found])
    for g in found:
        for level in range(g.level):
            above = (
                GridNode.objects.filter(tree_id=g.tree_id, level=level, lft__lt=g.lft)
                .order_by("-lft")
                .values("pk")[:1]
            )
            q |= Q(pk=Subquery(above))
    return list(GridNode.objects.filter(q, tenant_id=tenant_of(user)).values_list("pk", flat=True))


def get_in_scope_or_404(qs: QuerySet[M], **lookup: Any) -> M:
    """One object from an already scoped queryset; missing and out of scope are the same 404."""
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_node_or_404(user: AnyUser, pk: Any, perm: str = VIEW) -> GridNode:
    return get_in_scope_or_404(scope_nodes(user, perm), pk=pk)


def top_nodes(user: AnyUser, perm: str = VIEW) -> QuerySet[GridNode]:
    """The outermost nodes the user may see: where their browsing (and breadcrumbs) start."""
    if is_unrestricted(user):
        return GridNode.objects.filter(level=0).order_by("tree_id")
    ids = [g.node_id for g in grants(user, perm)]
    return GridNode.objects.filter(pk__in=ids).order_by("tree_id", "lft")


# --- tree ranges for reads (the only place outside grids.tree that knows the columns) ------------


# Every range below is closed at both ends on `lft` (a descendant's lft lies strictly between its
# ancestor's lft and rght), so an index on (tree_id, [level,] lft) reads only the rows it returns.
# `lft > a AND rght < b` would bound the scan at one end only: each node would read the rest of the
# tree, and a page of children would cost the square of the tree's size.


def ancestors_q(node: GridNode) -> Q:
    """Strict ancestors of `node`: per level above it, the last node of that level starting before it.

    Nodes of one level are disjoint ranges ordered by lft, so the one containing `node` is the one
    with the greatest lft below `node.lft`: one backward step on (tree_id, level, lft) per level,
    where `lft < x AND rght > y` would scan every node to the left of `node`.
    """
    q = Q(pk__in=[])
    for level in range(node.level):
        last = (
            GridNode.objects.filter(tree_id=node.tree_id, level=level, lft__lt=node.lft)
            .order_by("-lft")
            .values("pk")[:1]
        )
        q |= Q(pk=Subquery(last))
    return q


def descendants_q(node: GridNode) -> Q:
    """`node` and everything below it."""
    return Q(tree_id=node.tree_id, lft__gte=node.lft, lft__lt=node.rght)


def descendants_at(level: int, where: Q | None = None) -> Coalesce:
    """Per outer node: how many nodes at `level` lie below it (a correlated COUNT on the range index),
    only those matching `where` when given (e.g. plots with a responsible person)."""
    inner = (
        GridNode.objects.filter(
            tree_id=OuterRef("tree_id"), level=level, lft__gt=OuterRef("lft"), lft__lt=OuterRef("rght")
        )
        .filter(where or Q())
        .order_by()
        .values("tree_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(inner, output_field=IntegerField()), 0)


def ancestor_columns(node: GridNode) -> dict[str, int | None]:
    """The ancestor columns a `GridScoped` row recorded at `node` carries (one query).

    Keys are `tenant_id`, `city_id`, `township_id`, `cell_id`, `plot_id`; levels below the node are None.
    """
    levels = dict(GridNode.objects.filter(ancestors_q(node) | Q(pk=node.pk)).values_list("level", "pk"))
    columns: dict[str, int | None] = {"tenant_id": node.tenant_id}
    for level, column in LEVEL_COLUMN.items():
        columns[column] = levels.get(level)
    return columns
