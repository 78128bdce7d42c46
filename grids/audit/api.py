"""/api/v1/audit/: the audit log, read-only, scoped, cursor-paged newest first."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import CursorPagination

from ruian_grid.scoped import ScopedReadOnlyViewSet

from . import selectors
from .models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id", "created_at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr",
            "details", "city", "township", "cell", "plot",
        ]  # fmt: skip
        read_only_fields = fields


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50


class AuditEntryViewSet(ScopedReadOnlyViewSet):
    """Admin changes (grants included) in the caller's subtree; reveals of personal data are at
    /api/v1/registry/access-log/. Nobody can edit either: the database refuses."""

    serializer_class = AuditEntrySerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> Any:
        return selectors.audit_entries_for(self.request.user)
