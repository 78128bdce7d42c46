"""The scoped ModelAdmin: `/admin/` shows and edits only what the signed-in user's grants reach.

Subclasses give `scoped_queryset(request)` (a selector) and `node_of(obj)` (the grid node whose
grants decide about one object). Platform superusers see everything.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from grids import scoping
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
