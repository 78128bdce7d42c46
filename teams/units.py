"""Reads of responsible units and memberships, already limited to the reader's city."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from grids import scoping

from .models import Membership, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

_UNIT_CACHE_ATTR = "_unit_ids_cache"


def units_visible(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units of the user's city (a platform superuser sees every city's)."""
    qs = Unit.objects.select_related("node", "tenant").order_by("kind", "code")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=user.tenant_id)


def units_of(user: User | AnonymousUser) -> tuple[Unit, ...]:
    """The active units of the user's city they work in, with their grid node (one query,
    cached on the user object for the request)."""
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return ()
    cached = user.__dict__.get(_UNIT_CACHE_ATTR)
    if cached is not None:
        return cached
    units = tuple(
        Unit.objects.filter(memberships__user_id=user.pk, tenant_id=user.tenant_id, is_active=True)
        .select_related("node")
        .order_by("pk")
    )
    user.__dict__[_UNIT_CACHE_ATTR] = units
    return units


def unit_ids_of(user: User | AnonymousUser) -> frozenset[int]:
    return frozenset(unit.pk for unit in units_of(user))


def forget_units(user: User) -> None:
    """Drop the cached membership ids (after a membership changes within the same request)."""
    user.__dict__.pop(_UNIT_CACHE_ATTR, None)


def memberships_visible(user: User | AnonymousUser) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("unit", "user")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(unit__tenant_id=user.tenant_id)
