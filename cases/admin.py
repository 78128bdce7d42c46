"""Cases in /admin/: the city edits its time limits and working calendar; cases and their timeline are
read-only here (every change goes through the workflow), and the timeline can never be edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import GridNode
from ruian_grid.admin_base import ScopedModelAdmin
from teams.admin import CityOnlyAdmin, with_tenant

from . import selectors
from .models import CalendarDay, Case, CaseEvent, SupervisionPolicy, TimePolicy, WorkingHours


class _CityConfigAdmin(ScopedModelAdmin):
    """Rows that belong to a whole city: edited by whoever manages the city's grid."""

    manage_perm = "manage_grid"

    def node_of(self, obj: Any) -> GridNode | None:
        return GridNode.objects.filter(tenant_id=obj.tenant_id, level=0).first()

    def _city_manager(self, request: HttpRequest) -> bool:
        if not self._staff(request):
            return False
        if scoping.is_unrestricted(request.user):
            return True
        root = GridNode.objects.filter(tenant_id=request.user.tenant_id, level=0).first()
        return root is not None and scoping.can_now(request.user, self.manage_perm, root)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._city_manager(request)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if request.user.is_superuser else ["tenant"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return form if request.user.is_superuser else with_tenant(form, request.user.tenant_id)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(TimePolicy)
class TimePolicyAdmin(_CityConfigAdmin):
    list_display = ["step", "kind", "severity", "tier", "limit", "unit", "yellow_percent", "red_percent"]
    list_filter = ["step", "kind", "severity", "tier"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.policies_visible(request.user)


@admin.register(CalendarDay)
class CalendarDayAdmin(_CityConfigAdmin):
    list_display = ["date", "is_working", "name"]
    list_filter = ["is_working"]
    date_hierarchy = "date"

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.calendar_days_visible(request.user)


@admin.register(WorkingHours)
class WorkingHoursAdmin(CityOnlyAdmin):
    """The city's office hours and lunch break (one row per city): its administrators only."""

    list_display = ["__str__", "start", "end", "lunch_start", "lunch_end"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.working_hours_visible(request.user)


@admin.register(SupervisionPolicy)
class SupervisionPolicyAdmin(CityOnlyAdmin):
    """When an overdue case earns a yellow or red card and how long an order may wait for its reply."""

    list_display = ["__str__", "yellow_after_hours", "red_after_hours", "reply_hours"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.supervision_policies_visible(request.user)


class EventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action_label", "from_label", "to_label", "note", "due_at"]
    readonly_fields = fields

    # The timeline's action and statuses by their names, not their codes.
    @admin.display(description=_("action"))
    def action_label(self, obj: CaseEvent) -> str:
        return str(obj.label)

    @admin.display(description=_("from"))
    def from_label(self, obj: CaseEvent) -> str:
        return obj.from_label or "—"

    @admin.display(description=_("to"))
    def to_label(self, obj: CaseEvent) -> str:
        return obj.to_label or "—"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ScopedModelAdmin):
    """Read-only: cases change only through the workflow (pages and API)."""

    list_display = [
        "id",
        "title",
        "kind",
        "status",
        "tier",
        "node",
        "responsible_unit",
        "due_at",
        "created_at",
    ]
    list_filter = ["status", "kind", "severity", "tier"]
    search_fields = ["title"]
    inlines = [EventInline]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.cases_visible(request.user).select_related("node", "responsible_unit")

    def node_of(self, obj: Any) -> GridNode | None:
        return obj.node

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Parties by name and role (their phones stay masked), not the stored JSON.
        return [f.name if f.name != "parties" else "party_names" for f in Case._meta.fields if f.name != "id"]

    @admin.display(description=_("parties"))
    def party_names(self, obj: Case) -> str:
        return (
            "；".join(
                " ".join(
                    bit for bit in (p.get("name", ""), p.get("role", ""), p.get("phone_masked", "")) if bit
                )
                for p in obj.parties
            )
            or "—"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
