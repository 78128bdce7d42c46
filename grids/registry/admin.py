"""The registry in /admin/: read-only and scoped.

Changes go through the pages and the API (services: encryption, history, scope checks), so the admin
only looks. The personal-data access log cannot be added to, changed or deleted here (nor in the
database, where a trigger refuses it). Registered by `grids/admin.py` importing this module.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids.models import GridNode
from ruian_grid.admin_base import ScopedModelAdmin

from . import selectors
from .models import Building, Dwelling, Establishment, Household, ImportJob, PersonalDataAccess, Resident


class _ReadOnly(ScopedModelAdmin):
    list_select_related = True
    show_full_result_count = False

    def node_of(self, obj: Any) -> GridNode | None:
        return obj.plot

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(_ReadOnly):
    list_display = ["number", "address", "plot", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "address"]
    fields = [
        "number", "address", "plot", "dwelling", "tag_labels", "latitude", "longitude", "status",
        "deregistered_reason",
    ]  # fmt: skip
    readonly_fields = fields

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.households_for(request.user)

    @admin.display(description=_("tags"))
    def tag_labels(self, obj: Household) -> str:
        """The tags by their names, not the stored bit mask."""
        return "、".join(str(t.label) for t in obj.tag_list) or "—"


@admin.register(Resident)
class ResidentAdmin(_ReadOnly):
    list_display = [
        "name",
        "id_number_masked",
        "phone_masked",
        "sex",
        "birth_year",
        "household",
        "plot",
        "status",
    ]
    list_filter = ["status", "population_type", "sex"]
    search_fields = ["name"]
    fields = [
        "name", "household", "plot", "id_type", "id_number_masked", "phone_masked", "sex", "birth_year",
        "population_type", "relation", "status", "deregistered_reason",
    ]  # fmt: skip
    readonly_fields = fields

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.residents_for(request.user)


@admin.register(Building)
class BuildingAdmin(_ReadOnly):
    list_display = ["code", "name", "kind", "floors", "plot", "status"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "name", "kind", "floors", "plot", "status"]
    exclude = ["tenant", "city", "township", "cell"]

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.buildings_for(request.user)


@admin.register(Dwelling)
class DwellingAdmin(_ReadOnly):
    list_display = ["building", "number", "use", "plot", "status"]
    readonly_fields = ["building", "number", "use", "plot", "status"]
    exclude = ["tenant", "city", "township", "cell"]

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.dwellings_for(request.user)


@admin.register(Establishment)
class EstablishmentAdmin(_ReadOnly):
    list_display = ["name", "credit_code", "kind", "plot", "contact_phone_masked", "status"]
    search_fields = ["name", "credit_code"]
    fields = [
        "name",
        "credit_code",
        "kind",
        "address",
        "plot",
        "building",
        "staff_count",
        "contact_name",
        "contact_phone_masked",
        "status",
    ]
    readonly_fields = fields

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.establishments_for(request.user)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(_ReadOnly):
    """Append-only: viewable by those who manage the grid above it, never editable."""

    view_perm = "manage_grid"
    list_display = ["created_at", "actor", "resident", "plot", "reason"]
    list_filter = ["created_at"]
    fields = ["created_at", "actor", "resident", "plot", "fields", "reason"]
    readonly_fields = fields

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.access_log_for(request.user)


@admin.register(ImportJob)
class ImportJobAdmin(_ReadOnly):
    """Imports are the uploader's own: each staff user sees the imports they made."""

    list_display = ["original_name", "kind", "status", "added", "updated", "refused", "created_at"]
    fields = [
        "original_name",
        "kind",
        "status",
        "total_rows",
        "processed_rows",
        "added",
        "updated",
        "unchanged",
        "refused",
        "message",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def node_of(self, obj: Any) -> GridNode | None:
        return None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self._staff(request):
            return False
        return obj is None or obj.actor_id == request.user.pk or request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def scoped_queryset(self, request: HttpRequest) -> Any:
        return selectors.import_jobs_for(request.user)
