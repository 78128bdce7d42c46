"""Reads of organisations (responsible units) and memberships, already limited to the reader's city."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from grids import scoping

from .models import Membership, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

_ORG_CACHE_ATTR = "_organisation_ids_cache"


def organisations_visible(user: User | AnonymousUser) -> QuerySet[Organisation]:
    """The organisations of the user's city (a platform superuser sees every city's)."""
    qs = Organisation.objects.select_related("node", "tenant").order_by("kind", "code")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=user.tenant_id)


def organisations_of(user: User | AnonymousUser) -> tuple[Organisation, ...]:
    """The active organisations of the user's city they work in, with their grid node (one query,
    cached on the user object for the request)."""
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return ()
    cached = user.__dict__.get(_ORG_CACHE_ATTR)
    if cached is not None:
        return cached
    orgs = tuple(
        Organisation.objects.filter(memberships__user_id=user.pk, tenant_id=user.tenant_id, is_active=True)
        .select_related("node")
        .order_by("pk")
    )
    user.__dict__[_ORG_CACHE_ATTR] = orgs
    return orgs


def organisation_ids_of(user: User | AnonymousUser) -> frozenset[int]:
    return frozenset(org.pk for org in organisations_of(user))


def forget_organisations(user: User) -> None:
    """Drop the cached membership ids (after a membership changes within the same request)."""
    user.__dict__.pop(_ORG_CACHE_ATTR, None)


def memberships_visible(user: User | AnonymousUser) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("organisation", "user")
    if scoping.is_unrestricted(user):
        return qs
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return qs.none()
    return qs.filter(organisation__tenant_id=user.tenant_id)
