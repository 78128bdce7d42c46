"""State changes in `grids` other than the tree itself (which lives in `grids.tree`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from . import scoping
from .models import GridNode

if TYPE_CHECKING:
    from teams.models import User


def grant_assign(*, actor: User | None, user: User, perms: Iterable[str], node: GridNode) -> None:
    """Grant `perms` on `node` (and so on its whole subtree) to `user`.

    `actor` None means the system (seeding, migrations); otherwise the actor must hold `manage_grid`
    at the node, which keeps township administrators inside their township.
    """
    if user.tenant_id != node.tenant_id:
        raise ValidationError({"node": [_("The grid node belongs to another city.")]})
    if actor is not None and not scoping.can_now(actor, "manage_grid", node):
        raise ValidationError({"node": [_("You may not grant rights at this grid node.")]})
    with transaction.atomic():
        for perm in perms:
            assign_perm(f"grids.{scoping.codename(perm)}", user, node)
    scoping.forget(user)


def grant_remove(*, actor: User | None, user: User, perms: Iterable[str], node: GridNode) -> None:
    if actor is not None and not scoping.can_now(actor, "manage_grid", node):
        raise ValidationError({"node": [_("You may not change rights at this grid node.")]})
    with transaction.atomic():
        for perm in perms:
            remove_perm(f"grids.{scoping.codename(perm)}", user, node)
    scoping.forget(user)
