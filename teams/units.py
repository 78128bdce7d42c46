"""Reads of responsible units and memberships, already limited to the reader's city."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from grids import access, scoping

from .models import Membership, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User


def units_visible(user: User | AnonymousUser) -> QuerySet[Unit]:
    """The units of the user's city (a platform superuser sees every city's)."""
    qs = Unit.objects.select_related("node", "tenant").order_by("kind", "code")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=user.tenant_id)


def units_of(user: User | AnonymousUser) -> tuple[Unit, ...]:
    """The active units of the user's city they work in, with their grid node (one query, kept for
    the request on the user object and between requests in the cache under the user's access
    version: `grids.access`; membership and unit changes give the members a new version)."""
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return ()
    tenant_id = user.tenant_id

    def read() -> tuple[Unit, ...]:
        return tuple(
            Unit.objects.filter(memberships__user_id=user.pk, tenant_id=tenant_id, is_active=True)
            .select_related("node")
            .order_by("pk")
        )

    return access.remembered(user, "units", read)


def unit_ids_of(user: User | AnonymousUser) -> frozenset[int]:
    return frozenset(unit.pk for unit in units_of(user))


def forget_units(user: User) -> None:
    """After a membership changed outside the services: give the user a new access version, so
    their units are read afresh here and in every later request."""
    access.access_changed(users=[user])


def memberships_visible(user: User | AnonymousUser) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("unit", "user")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(unit__tenant_id=user.tenant_id)
