"""State changes in `grids` other than the tree itself (which lives in `grids.tree`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from . import access, scoping
from .models import GridNode

if TYPE_CHECKING:
    from teams.models import User


def grant_check(*, actor: User | None, perms: Iterable[str], node: GridNode) -> None:
    """Refuse a grant the actor may not give: nobody grants beyond what they hold.

    The actor must hold `manage_grid` at the node and every right being granted there (a right held
    at the node holds for its subtree, so this is "the actor's own grants cover the node for each
    right"). A role is a bundle of rights, so a role whose rights exceed the actor's is refused too.
    `actor` None means the system (seeding, migrations). Answered by the database (`can_now`).
    """
    if actor is None:
        return
    if not scoping.can_now(actor, "manage_grid", node):
        raise ValidationError({"home_node": [_("You may not grant rights at this grid node.")]})
    missing = sorted({scoping.codename(p) for p in perms if not scoping.can_now(actor, p, node)})
    if missing:
        raise ValidationError(
            {"role": [_("You may not grant rights you do not hold yourself here: %s.") % ", ".join(missing)]}
        )


def grant_assign(*, actor: User | None, user: User, perms: Iterable[str], node: GridNode) -> None:
    """Grant `perms` on `node` (and so on its whole subtree) to `user`.

    The one path by which rights are given (admin, API, commands): `grant_check` refuses anything
    beyond the actor's own rights at the node, which keeps township administrators inside their
    township and below their own role.
    """
    perms = tuple(perms)
    if user.tenant_id != node.tenant_id:
        raise ValidationError({"home_node": [_("The grid node belongs to another city.")]})
    grant_check(actor=actor, perms=perms, node=node)
    with transaction.atomic():
        for perm in perms:
            assign_perm(f"grids.{scoping.codename(perm)}", user, node)
        access.access_changed(users=[user])


def rights_within(*, actor: User, user: User) -> bool:
    """Does `actor` hold, at every node where `user` holds a right, that same right?

    An administrator may change (rename, reset the password of, deactivate) only people whose rights
    do not exceed their own; otherwise taking over such an account would be an escalation.
    """
    if scoping.is_unrestricted(actor):
        return True
    if scoping.is_unrestricted(user):
        return False
    held = scoping.user_grants(user)
    return all(scoping.can_now(actor, perm, node) for perm, node in held)


def grant_remove(*, actor: User | None, user: User, perms: Iterable[str], node: GridNode) -> None:
    if actor is not None and not scoping.can_now(actor, "manage_grid", node):
        raise ValidationError({"node": [_("You may not change rights at this grid node.")]})
    with transaction.atomic():
        for perm in perms:
            remove_perm(f"grids.{scoping.codename(perm)}", user, node)
        access.access_changed(users=[user])


def node_responsible_set(*, node: GridNode, user_id: int | None) -> None:
    """Write a plot's responsible person. Called only by the plot-assignment service of `teams`,
    inside its transaction, so the column always equals the assignment in force."""
    GridNode.objects.filter(pk=node.pk).update(responsible_id=user_id)
    node.responsible_id = user_id
