"""Every change to the grid tree, in one module.

django-mptt takes no locks: two concurrent inserts under one parent both read the same `rght` and
corrupt the tree, and two new roots computed as `max(tree_id) + 1` share a tree. So each change here
runs in a transaction that first takes a PostgreSQL advisory lock on the tenant (and a global one
when a tenant, that is a new root, is created), then re-reads the rows it builds on. On other
databases the tenant row is locked with SELECT ... FOR UPDATE (SQLite serialises writers anyway).

Nothing else in the project imports mptt internals or writes `lft`/`rght`/`tree_id`/`level`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from . import access, scoping
from .models import KIND_LEVEL, GridNode, GridScoped, Kind, Level, Tenant

LOCK_NAMESPACE = 0x52474944  # "RGID": keeps our advisory locks apart from anyone else's
GLOBAL_LOCK_KEY = 0  # tenant ids start at 1


def _advisory_lock(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def lock_tenant(tenant_id: int) -> None:
    """Serialise tree writes of one tenant until the surrounding transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_tenant must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        _advisory_lock(tenant_id)
    else:
        list(Tenant.objects.select_for_update().filter(pk=tenant_id).values_list("pk"))


def _lock_to_shift(tenant_id: int) -> None:
    """`lock_tenant` before a write that shifts the tenant's ranges (insert, move, delete): the
    tenant's users get a new access version, so no cached grant keeps its old lft/rght."""
    lock_tenant(tenant_id)
    access.access_changed(tenant_id=tenant_id)


def lock_global() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("lock_global must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        _advisory_lock(GLOBAL_LOCK_KEY)


# --- validation -----------------------------------------------------------------------------------


def _check_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _ring_error(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return _("each ring needs at least four positions")
    for pos in ring:
        if not (isinstance(pos, list) and len(pos) in (2, 3) and all(_check_number(v) for v in pos)):
            return _("each position is [longitude, latitude]")
        if not (-180 <= pos[0] <= 180 and -90 <= pos[1] <= 90):
            return _("a position lies outside longitude -180..180 / latitude -90..90")
    if ring[0][:2] != ring[-1][:2]:
        return _("each ring must end where it starts")
    return None


def boundary_error(boundary: Any) -> str | None:
    """Why `boundary` is not a GeoJSON Polygon or MultiPolygon, or None when it is one."""
    if boundary is None:
        return None
    if not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon"):
        return _("a boundary is a GeoJSON object of type Polygon or MultiPolygon")
    coords = boundary.get("coordinates")
    polygons = [coords] if boundary["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return _("the boundary has no coordinates")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return _("a polygon is a list of rings")
        for ring in polygon:
            error = _ring_error(ring)
            if error:
                return error
    return None


def _validate(node: GridNode, level: int) -> None:
    errors: dict[str, list[str]] = {}
    if KIND_LEVEL.get(node.kind) != level:
        allowed = ", ".join(str(k.label) for k in Kind if KIND_LEVEL[k] == level) or "-"
        errors.setdefault("kind", []).append(
            _("A node of kind “%(kind)s” cannot stand at level %(level)s; allowed there: %(allowed)s.")
            % {"kind": node.kind, "level": level, "allowed": allowed}
        )
    error = boundary_error(node.boundary)
    if error:
        errors.setdefault("boundary", []).append(_("Malformed boundary: %s.") % error)
    try:
        node.full_clean(exclude=["parent", "tenant", "kind", "boundary", "lft", "rght", "tree_id", "level"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _save_new(node: GridNode) -> None:
    """Insert, turning a lost race on the unique code into the same error a pre-check would give."""
    try:
        with transaction.atomic():
            node.save()
    except IntegrityError as exc:
        if GridNode.objects.filter(tenant_id=node.tenant_id, code=node.code).exists():
            raise ValidationError({"code": [_("Code %s is already used in this city.") % node.code]}) from exc
        raise


def check_node(*, tenant_id: int, level: int, node: GridNode, exclude_pk: int | None = None) -> None:
    """Everything a form can check before a write: kind against level, fields, boundary, free code.

    The write itself checks again under the lock (and the database constraints have the last word).
    """
    _validate(node, level)
    _check_code_free(tenant_id, node.code, exclude_pk=exclude_pk)


def _check_code_free(tenant_id: int, code: str, exclude_pk: int | None = None) -> None:
    qs = GridNode.objects.filter(tenant_id=tenant_id, code=code)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"code": [_("Code %s is already used in this city.") % code]})


# --- tenants and nodes -----------------------------------------------------------------------------


def tenant_create(
    *,
    name: str,
    code: str,
    city_name: str | None = None,
    time_zone: str = "Asia/Shanghai",
    kind: str = Kind.CITY,
    extent: list[float] | None = None,
) -> Tenant:
    """A new city (or county: `kind`) and its root grid; the global lock keeps two new roots from
    sharing a tree_id. `extent` is its bounding box [west, south, east, north], bounding field positions."""
    if kind not in (Kind.CITY, Kind.COUNTY):
        raise ValidationError({"kind": [_("A tenant is a city or a county.")]})
    with transaction.atomic():
        lock_global()
        tenant = Tenant(name=name, code=code, time_zone=time_zone, extent=extent)
        tenant.full_clean()
        tenant.save()
        root = GridNode(tenant=tenant, parent=None, kind=kind, code=code, name=city_name or name)
        _validate(root, Level.CITY)
        _save_new(root)
    return tenant


def tenant_root(tenant: Tenant | int) -> GridNode:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return GridNode.objects.get(tenant_id=tenant_id, level=Level.CITY)


def node_create(
    *,
    parent: GridNode | int,
    kind: str,
    code: str,
    name: str,
    boundary: dict[str, Any] | None = None,
    responsible_id: int | None = None,
    tenant_id: int | None = None,
) -> GridNode:
    """A child under `parent`. `tenant_id`, when given, is the tenant the caller acts for."""
    parent_id = parent if isinstance(parent, int) else parent.pk
    with transaction.atomic():
        # Read the parent's tenant, lock it, then re-read the parent: its lft/rght may have moved
        # while we waited for the lock.
        parent_tenant = GridNode.objects.filter(pk=parent_id).values_list("tenant_id", flat=True).first()
        if parent_tenant is None or (tenant_id is not None and parent_tenant != tenant_id):
            raise ValidationError({"parent": [_("No such parent grid in this city.")]})
        _lock_to_shift(parent_tenant)
        fresh_parent = GridNode.objects.get(pk=parent_id)
        if fresh_parent.level >= Level.PLOT:
            raise ValidationError({"parent": [_("A plot cannot have children.")]})
        if fresh_parent.level + 1 == Level.PLOT and responsible_id is not None:
            raise _plot_responsible_refused()
        node = GridNode(
            tenant_id=parent_tenant,
            parent=fresh_parent,
            kind=kind,
            code=code,
            name=name,
            boundary=boundary,
            responsible_id=responsible_id,
        )
        _validate(node, fresh_parent.level + 1)
        _check_code_free(parent_tenant, code)
        _save_new(node)
    return node


_EDITABLE = ("kind", "code", "name", "boundary", "responsible_id")


def _plot_responsible_refused() -> ValidationError:
    """A plot's responsible member is its open assignment (decision 0901): it is written by the
    assignment service only, never by a grid edit."""
    return ValidationError(
        {
            "responsible": [
                _(
                    "A plot's responsible member is set on the plot's assignment page "
                    "(people and field work), not by editing the grid."
                )
            ]
        }
    )


def node_update(*, node: GridNode, **changes: Any) -> GridNode:
    """Change a node's own fields (not its place in the tree: see `node_move`)."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        lock_tenant(node.tenant_id)
        fresh = GridNode.objects.get(pk=node.pk)
        if (
            fresh.level == Level.PLOT
            and "responsible_id" in changes
            and changes["responsible_id"] != fresh.responsible_id
        ):
            raise _plot_responsible_refused()
        for name, value in changes.items():
            setattr(fresh, name, value)
        _validate(fresh, fresh.level)
        if "code" in changes:
            _check_code_free(fresh.tenant_id, fresh.code, exclude_pk=fresh.pk)
        try:
            with transaction.atomic():
                fresh.save(update_fields=[f for f in _EDITABLE if f in changes])
        except IntegrityError as exc:
            raise ValidationError(
                {"code": [_("Code %s is already used in this city.") % fresh.code]}
            ) from exc
    return fresh


def node_move(*, node: GridNode, new_parent: GridNode) -> GridNode:
    """Redraw the grid: move a node (and its subtree) under another parent one level up.

    Registry rows (models with FOLLOWS_GRID) follow the new grid; other rows keep the grid they were
    recorded in.
    """
    with transaction.atomic():
        _lock_to_shift(node.tenant_id)
        fresh = GridNode.objects.get(pk=node.pk)
        target = GridNode.objects.get(pk=new_parent.pk)
        if target.tenant_id != fresh.tenant_id:
            raise ValidationError({"parent": [_("No such parent grid in this city.")]})
        if target.level != fresh.level - 1:
            raise ValidationError({"parent": [_("The new parent must stand one level above the node.")]})
        fresh.move_to(target, "last-child")
        fresh.refresh_from_db()
        _follow_grid(fresh)
    return fresh


def _follow_grid(moved: GridNode) -> None:
    """Rewrite the ancestor columns of registry rows below `moved` after a move."""
    columns = scoping.ancestor_columns(moved)
    own_column = scoping.LEVEL_COLUMN[Level(moved.level)]
    updates = {
        scoping.LEVEL_COLUMN[level]: columns[scoping.LEVEL_COLUMN[level]]
        for level in (Level.TOWNSHIP, Level.CELL)
        if level < moved.level
    }
    if not updates:
        return
    for model in apps.get_models():
        if issubclass(model, GridScoped) and model.FOLLOWS_GRID:
            model._base_manager.filter(tenant_id=moved.tenant_id, **{own_column: moved.pk}).update(**updates)


def node_delete(*, node: GridNode) -> None:
    """Delete a node that has no children and no rows pointing at it."""
    with transaction.atomic():
        _lock_to_shift(node.tenant_id)
        fresh = GridNode.objects.get(pk=node.pk)
        if not fresh.is_leaf_node():
            raise ValidationError(_("Delete or move the node's children first."))
        fresh.delete()


# --- bulk building (seeding, imports of a whole grid) ----------------------------------------------


@dataclass
class NodeSpec:
    kind: str
    code: str
    name: str
    boundary: dict[str, Any] | None = None
    responsible_id: int | None = None
    children: list[NodeSpec] = field(default_factory=list)


def _count(specs: Sequence[NodeSpec]) -> int:
    return sum(1 + _count(s.children) for s in specs)


def subtree_bulk_create(*, parent: GridNode, specs: Sequence[NodeSpec], batch_size: int = 1000) -> int:
    """Append whole subtrees under `parent` in a handful of queries; returns the number of nodes made.

    Space is opened once at the parent's right edge, every node's lft/rght is computed in memory, and
    the nodes are inserted level by level so that each level's parents already have ids.
    """
    total = _count(specs)
    if not total:
        return 0
    with transaction.atomic():
        _lock_to_shift(parent.tenant_id)
        fresh = GridNode.objects.get(pk=parent.pk)
        codes = [s.code for s in _walk(specs)]
        if len(set(codes)) != len(codes):
            raise ValidationError({"code": [_("The same code appears twice in the new grid.")]})
        taken = list(
            GridNode.objects.filter(tenant_id=fresh.tenant_id, code__in=codes).values_list("code", flat=True)[
                :5
            ]
        )
        if taken:
            raise ValidationError({"code": [_("Codes already used in this city: %s") % ", ".join(taken)]})
        start = fresh.rght
        GridNode.objects._create_space(2 * total, start - 1, fresh.tree_id)  # noqa: SLF001 - the one module allowed
        by_level: dict[int, list[tuple[GridNode, NodeSpec, GridNode]]] = {}

        def place(spec: NodeSpec, parent_node: GridNode, cursor: int, level: int) -> int:
            node = GridNode(
                tenant_id=fresh.tenant_id,
                kind=spec.kind,
                code=spec.code,
                name=spec.name,
                boundary=spec.boundary,
                responsible_id=spec.responsible_id,
                tree_id=fresh.tree_id,
                level=level,
                lft=cursor,
            )
            _validate(node, level)
            by_level.setdefault(level, []).append((node, spec, parent_node))
            for child in spec.children:
                cursor = place(child, node, cursor + 1, level + 1)
            node.rght = cursor + 1
            return cursor + 1

        cursor = start - 1
        for spec in specs:
            cursor = place(spec, fresh, cursor + 1, fresh.level + 1)
        for level in sorted(by_level):
            nodes = []
            for node, _spec, parent_node in by_level[level]:
                node.parent_id = parent_node.pk
                nodes.append(node)
            GridNode.objects.bulk_create(nodes, batch_size=batch_size)
    return total


def _walk(specs: Iterable[NodeSpec]) -> Iterable[NodeSpec]:
    for s in specs:
        yield s
        yield from _walk(s.children)


def tree_is_valid(tenant: Tenant | int) -> bool:
    """True when the stored lft/rght/level of the tenant's tree equal a rebuild from parent links."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    rows = list(
        GridNode.objects.filter(tenant_id=tenant_id).values_list(
            "pk", "parent_id", "tree_id", "lft", "rght", "level"
        )
    )
    roots = [r for r in rows if r[1] is None]
    if len(roots) != 1:
        return False
    children: dict[int, list[tuple[int, ...]]] = {}
    for r in rows:
        if r[1] is not None:
            children.setdefault(r[1], []).append(r)
    for kids in children.values():
        kids.sort(key=lambda r: r[3])
    expected: dict[int, tuple[int, int, int, int]] = {}

    def walk(row: tuple[int, ...], left: int, level: int) -> int:
        right = left + 1
        for kid in children.get(row[0], []):
            right = walk(kid, right, level + 1) + 1
        expected[row[0]] = (roots[0][2], left, right, level)
        return right

    walk(roots[0], 1, 0)
    other_trees = GridNode.objects.filter(tree_id=roots[0][2]).exclude(tenant_id=tenant_id).exists()
    return (
        not other_trees and len(expected) == len(rows) and all(expected[r[0]] == tuple(r[2:]) for r in rows)
    )
