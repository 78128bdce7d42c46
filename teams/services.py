"""State changes for people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grids.models import GridNode
from grids.services import grant_assign

from .models import User
from .roles import ROLE_PERMS, STAFF_ROLES


def user_create(
    *,
    actor: User | None,
    username: str,
    home_node: GridNode,
    role: str,
    password: str | None = None,
    full_name: str = "",
) -> User:
    """A user of the home node's tenant, holding the role's rights at the home node."""
    if role not in ROLE_PERMS:
        raise ValidationError({"role": [_("Unknown role %s.") % role]})
    with transaction.atomic():
        user = User(
            username=username,
            tenant_id=home_node.tenant_id,
            home_node=home_node,
            full_name=full_name,
            is_staff=role in STAFF_ROLES,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        grant_assign(actor=actor, user=user, perms=ROLE_PERMS[role], node=home_node)
    return user
