"""The scoped ModelAdmin: `/admin/` shows and edits only what the signed-in user's grants reach.

Subclasses give `scoped_queryset(request)` (a selector) and `node_of(obj)` (the grid node whose
grants decide about one object). Platform superusers see everything. Every add, change and delete
made here also goes to the append-only audit log (grids/audit), placed at the object's node.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from grids import scoping
from grids.audit import services as audit
from grids.audit.models import Action
from grids.models import GridNode


class ScopedModelAdmin(admin.ModelAdmin):
    scoped = True
    view_perm = scoping.VIEW
    manage_perm = "manage_grid"

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        raise NotImplementedError

    def node_of(self, obj: Any) -> GridNode | None:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def _allowed(self, request: HttpRequest, perm: str, obj: Any = None) -> bool:
        if not self._staff(request):
            return False
        if scoping.is_unrestricted(request.user):
            return True
        if obj is None:
            return bool(scoping.grants(request.user, perm))
        node = self.node_of(obj)
        return node is not None and scoping.can_now(request.user, perm, node)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.view_perm)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.view_perm, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.manage_perm, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, self.manage_perm)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.manage_perm, obj)

    # --- the audit log: Django's admin calls these inside its transaction, around each write -------

    def audit_details(self, request: HttpRequest, obj: Any, action: str) -> dict[str, Any]:
        """Extra details for an entry (subclasses add the rights a new person was given)."""
        return {}

    def _audit(self, request: HttpRequest, obj: Model, action: str, details: dict[str, Any]) -> None:
        audit.audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=action,
            obj=obj,
            node=self.node_of(obj),
            details={**details, **self.audit_details(request, obj, action)},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, Action.ADD, audit.change_fields(message))
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        self._audit(request, obj, Action.CHANGE, audit.change_fields(message))
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, obj, Action.DELETE, {})
        return entries
