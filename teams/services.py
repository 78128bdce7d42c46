"""State changes for people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grids.models import GridNode
from grids.services import grant_assign, grant_check

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
    # Nobody creates a person with rights beyond their own (checked again, in the same way, by the grant).
    grant_check(actor=actor, perms=ROLE_PERMS[role], node=home_node)
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


# --- responsible units ---------------------------------------------------------------------------

from .models import Membership, Unit  # noqa: E402
from .units import forget_units  # noqa: E402


def unit_create(
    *,
    actor: User | None,
    tenant_id: int,
    kind: str,
    code: str,
    name: str,
    node: GridNode | None = None,
) -> Unit:
    """A responsible unit of a city. Offices stand at their grid node; departments at none."""
    from grids import scoping

    if node is not None and node.tenant_id != tenant_id:
        raise ValidationError({"node": [_("The grid node belongs to another city.")]})
    if actor is not None and not scoping.is_unrestricted(actor):
        anchor = node or GridNode.objects.get(tenant_id=tenant_id, level=0)
        if actor.tenant_id != tenant_id or not scoping.can_now(actor, "manage_grid", anchor):
            raise ValidationError(_("You may not create units here."))
    with transaction.atomic():
        unit = Unit(tenant_id=tenant_id, kind=kind, code=code, name=name, node=node)
        unit.full_clean()
        unit.save()
    return unit


def membership_add(*, actor: User | None, unit: Unit, user: User, role: str = "member") -> Membership:
    """Put a person into a unit; adding them twice changes nothing."""
    if user.tenant_id != unit.tenant_id:
        raise ValidationError({"user": [_("The person belongs to another city.")]})
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(unit=unit, user=user, defaults={"role": role})
    forget_units(user)
    return membership


# --- the inbox -----------------------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from .inbox_models import InboxItem  # noqa: E402


def inbox_mark_read(*, actor: User, item: InboxItem) -> InboxItem:
    """Mark one of the actor's items read (reading it again changes nothing)."""
    if item.user_id != actor.pk:
        raise ValidationError(_("This item is not in your inbox."))
    now = timezone.now()
    if InboxItem.objects.filter(pk=item.pk, user_id=actor.pk, read_at__isnull=True).update(read_at=now):
        item.read_at = now
    return item


def inbox_mark_all_read(*, actor: User) -> int:
    """Mark every unread item of the actor read; returns how many changed."""
    return InboxItem.objects.filter(user_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())
