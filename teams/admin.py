"""Responsible units and their people in /admin/, limited to the signed-in user's city.

A city administrator (manage_grid at the city grid) edits every unit of the city; a township
administrator the offices at or below their township. The User admin is registered elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from grids import access, scoping
from grids.models import GridNode
from ruian_grid.admin_base import ScopedModelAdmin

from . import units as selectors
from .models import Membership, Unit


def _anchor(unit: Unit) -> GridNode | None:
    """The grid node whose grants decide about a unit: its own, or the city for departments."""
    if unit.node_id:
        return unit.node
    return GridNode.objects.filter(tenant_id=unit.tenant_id, level=0).first()


def with_tenant(form: type[ModelForm], tenant_id: int) -> type[ModelForm]:
    """The admin form of a tenant-keyed row whose tenant field is hidden: the row gets the user's city
    before validation, so the (tenant, ...) unique constraints are checked as form errors."""

    class TenantForm(form):  # type: ignore[valid-type,misc]
        def _get_validation_exclusions(self) -> set[str]:
            return set(super()._get_validation_exclusions()) - {"tenant"}

        def _post_clean(self) -> None:
            if self.instance.tenant_id is None:
                self.instance.tenant_id = tenant_id
            super()._post_clean()

    return TenantForm


class ChangesAccess:
    """For the admins of units and memberships: a unit's node or state and who works where feed every
    member's cached units (`grids.access`), so each saved or deleted row gives the people of its city
    a new access version (admin edits are rare; the city is the simple, certainly complete set)."""

    def tenant_of_row(self, obj: Any) -> int:
        return obj.tenant_id if isinstance(obj, Unit) else obj.unit.tenant_id

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        access.access_changed(tenant_id=self.tenant_of_row(form.instance))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        tenant_id = self.tenant_of_row(obj)
        super().delete_model(request, obj)  # type: ignore[misc]
        access.access_changed(tenant_id=tenant_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        tenants = {self.tenant_of_row(obj) for obj in queryset}
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for tenant_id in tenants:
            access.access_changed(tenant_id=tenant_id)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    raw_id_fields = ["user"]
    fields = ["user", "role"]


@admin.register(Unit)
class UnitAdmin(ChangesAccess, ScopedModelAdmin):
    list_display = ["name", "code", "kind", "node", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    raw_id_fields = ["node"]
    inlines = [MembershipInline]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.units_visible(request.user)

    def node_of(self, obj: Any) -> GridNode | None:
        return _anchor(obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if request.user.is_superuser else ["tenant"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return form if request.user.is_superuser else with_tenant(form, request.user.tenant_id)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
        # Departments are the city's; an office needs manage_grid at its node.
        anchor = _anchor(obj)
        if not scoping.is_unrestricted(request.user) and (
            anchor is None or not scoping.can_now(request.user, self.manage_perm, anchor)
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


@admin.register(Membership)
class MembershipAdmin(ChangesAccess, ScopedModelAdmin):
    list_display = ["user", "unit", "role", "joined_at"]
    list_filter = ["role", "unit__kind"]
    search_fields = ["user__username", "user__full_name", "unit__name"]
    raw_id_fields = ["user", "unit"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.memberships_visible(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        anchor = _anchor(obj.unit)
        if not scoping.is_unrestricted(request.user) and (
            obj.unit.tenant_id != request.user.tenant_id
            or anchor is None
            or not scoping.can_now(request.user, self.manage_perm, anchor)
        ):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def node_of(self, obj: Any) -> GridNode | None:
        return _anchor(obj.unit)
