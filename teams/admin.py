"""Responsible units and their people in /admin/, limited to the signed-in user's city.

A city administrator (manage_grid at the city grid) edits every unit of the city; a township
administrator the offices at or below their township. The User admin is registered elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext as _

from grids import access, scoping
from grids.models import GridNode
from ruian_grid.admin_base import ScopedModelAdmin

from . import selectors as inbox_selectors
from . import units as selectors
from .inbox_models import CityChannel
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
    autocomplete_fields = ["node"]
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


class CityOnlyAdmin(ScopedModelAdmin):
    """Settings of a whole city (its hours, grading, channels): seen and edited only by the city's
    administrators (manage_grid at the city grid), never by a township; other cities' rows are not in
    the queryset, so their ids are 404s."""

    manage_perm = "manage_grid"

    def node_of(self, obj: Any) -> GridNode | None:
        return GridNode.objects.filter(tenant_id=obj.tenant_id, level=0).first()

    def _city_manager(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self._staff(request):
            return False
        if scoping.is_unrestricted(request.user):
            return True
        if obj is not None and obj.tenant_id != request.user.tenant_id:
            return False
        root = GridNode.objects.filter(tenant_id=request.user.tenant_id, level=0).first()
        return root is not None and scoping.can_now(request.user, self.manage_perm, root)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs if self._city_manager(request) else qs.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._city_manager(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._city_manager(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._city_manager(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._city_manager(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._city_manager(request, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if request.user.is_superuser else ["tenant"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            return form

        class CityForm(with_tenant(form, request.user.tenant_id)):  # type: ignore[misc]
            def _update_errors(self, errors: ValidationError) -> None:
                # One row per city (a unique tenant): the hidden tenant's error becomes the form's.
                found = getattr(errors, "error_dict", {})
                if "tenant" in found and "tenant" not in self.fields:
                    found.pop("tenant")
                    found.setdefault(NON_FIELD_ERRORS, []).append(
                        ValidationError(_("This city already has this setting: change the one it has."))
                    )
                super()._update_errors(errors)

        return CityForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(CityChannel)
class CityChannelAdmin(CityOnlyAdmin):
    list_display = ["channel", "kinds", "is_active"]
    list_filter = ["channel", "is_active"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return inbox_selectors.channels_visible(request.user)


# --- pairings ---------------------------------------------------------------------------------------

from django import forms  # noqa: E402

from . import selectors as team_selectors  # noqa: E402
from . import services as team_services  # noqa: E402
from .models import Pairing, PairingKind  # noqa: E402


class PairingForm(forms.ModelForm):
    """New pairings are made by the service during validation (the admin's change view runs in one
    transaction), so a refusal is a form error in Chinese, not a server error."""

    actor: Any = None

    class Meta:
        model = Pairing
        fields = ["unit", "cell", "officer", "household", "note", "ended_on"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            self.instance = team_services.pairing_create(
                actor=self.actor,
                unit=data.get("unit"),
                cell=data.get("cell"),
                officer=data.get("officer"),
                household=data.get("household"),
                note=data.get("note") or "",
            )
        return data

    def _post_clean(self) -> None:
        # The service validated and wrote (ancestor columns, rights, one open pairing).
        pass


@admin.register(Pairing)
class PairingAdmin(ScopedModelAdmin):
    """Pairings in the user's grid. Adding goes through `teams.services.pairing_create`; an existing
    pairing can only be ended."""

    form = PairingForm
    manage_perm = "assign_plots"
    list_display = ["__str__", "unit", "cell", "officer", "household", "started_on", "ended_on"]
    list_filter = ["kind"]
    raw_id_fields = ["unit", "cell", "officer", "household"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return team_selectors.pairings_visible(request.user)

    def node_of(self, obj: Any) -> GridNode | None:
        return obj.cell if obj.kind == PairingKind.UNIT_VILLAGE else obj.plot

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["unit", "cell", "officer", "household", "note"] if obj is not None else []

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and form.cleaned_data.get("ended_on"):
            team_services.pairing_end(actor=request.user, pairing=obj)
        elif not change:
            obj.pk = form.instance.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
