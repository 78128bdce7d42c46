"""Reading the audit log: by those who manage the grid (a township administrator reads their township,
the city administrator the whole city), through `grids.scoping` like every other row."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.db.models import QuerySet

from grids import scoping

from .models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

    Actor: TypeAlias = User | AnonymousUser

READ_PERM = "manage_grid"


def audit_entries_for(actor: Actor) -> QuerySet[AuditEntry]:
    """Newest first, keyset-paged on id (indexes per ancestor column end in id)."""
    qs = AuditEntry.objects.select_related("township", "cell").order_by("-id")
    return scoping.scope_rows(actor, READ_PERM, qs)
