"""Reads of people, already scoped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from grids import scoping

from .models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def user_list(*, actor: User | AnonymousUser, perm: str = "manage_grid") -> QuerySet[User]:
    """Users whose home node lies where `actor` holds `perm` (platform superusers: everyone)."""
    qs = User.objects.select_related("tenant", "home_node").order_by("username")
    if scoping.is_unrestricted(actor):
        return qs
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=tenant_id, home_node__in=scoping.scope_nodes(actor, perm).values("pk"))


# --- the inbox ----------------------------------------------------------------------------------

from .inbox_models import InboxItem  # noqa: E402


def inbox_items(actor: User | AnonymousUser, *, unread_only: bool = False) -> QuerySet[InboxItem]:
    """The actor's own inbox, newest first (nobody reads another person's inbox)."""
    if not (actor.is_authenticated and actor.is_active):
        return InboxItem.objects.none()
    qs = InboxItem.objects.filter(user_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def inbox_unread_count(actor: User | AnonymousUser) -> int:
    """One COUNT over the partial index of unread items."""
    if not (actor.is_authenticated and actor.is_active):
        return 0
    return InboxItem.objects.filter(user_id=actor.pk, read_at__isnull=True).count()
