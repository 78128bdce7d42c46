"""Writing the audit log. Called by the admin base classes inside the admin's own transaction, so an
entry exists exactly when its change was committed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model

from grids import scoping
from grids.models import GridNode, Level

from .models import Action, AuditEntry

if TYPE_CHECKING:
    from teams.models import User

# Keys an entry's details may carry; anything else a caller passes is dropped, so values (a resident's
# numbers, a password hash) can never reach the log through a careless caller.
DETAIL_KEYS = ("fields", "related", "role", "rights", "node")


def _scope_node(obj: Model, node: GridNode | None, actor: User) -> GridNode | None:
    """The node whose subtree the entry belongs to: the object's own node, else its city's root."""
    if node is not None:
        # A node just created through grids.tree: the admin's copy lacks the tree columns.
        return node if node.lft is not None else GridNode.objects.get(pk=node.pk)
    tenant_id = getattr(obj, "tenant_id", None) or getattr(actor, "tenant_id", None)
    if tenant_id is None:
        return None
    return GridNode.objects.filter(tenant_id=tenant_id, level=Level.CITY).first()


def change_fields(message: Any) -> dict[str, Any]:
    """Field and related-object names from the admin's change message (a list of dicts that names
    what changed, never the values)."""
    fields: list[str] = []
    related: list[str] = []
    for part in message if isinstance(message, list) else []:
        for kind, what in part.items():
            if kind == "changed" and "fields" in what and "name" not in what:
                fields.extend(str(f) for f in what["fields"])
            elif isinstance(what, dict) and "name" in what:
                related.append(f"{kind} {what['name']}")
    out: dict[str, Any] = {}
    if fields:
        out["fields"] = fields
    if related:
        out["related"] = related
    return out


def audit_record(
    *,
    actor: User,
    action: Action | str,
    obj: Model,
    node: GridNode | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Append one entry about `obj`, placed in the grid at `node` (for a grid node, the node itself:
    its ancestor columns keep the entry readable above it after the node is deleted).

    Returns None only when the object belongs to no city at all (a platform superuser's own rows)."""
    where = _scope_node(obj, node, actor)
    if where is None:
        return None
    columns = scoping.ancestor_columns(where)
    clean = {k: v for k, v in (details or {}).items() if k in DETAIL_KEYS and v not in (None, "", [], {})}
    return AuditEntry.objects.create(
        **columns,
        actor=actor,
        actor_name=str(actor)[:200],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk)[:64],
        object_repr=str(obj)[:200],
        details=clean,
    )
