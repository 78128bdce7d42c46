"""Admin for tenants and the grid, scoped: a township administrator sees and edits their township.

Every write goes through `grids.tree`, so the admin cannot corrupt the tree or skip its checks.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from ruian_grid.admin_base import ScopedModelAdmin

from . import scoping, selectors, tree
from .models import GridNode, Level, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Cities are the platform operator's business: superusers only. New ones come with their root."""

    list_display = ["name", "code", "time_zone", "created_at"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return scoping.is_unrestricted(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return scoping.is_unrestricted(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return scoping.is_unrestricted(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return scoping.is_unrestricted(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Tenant, form: forms.ModelForm, change: bool) -> None:
        if change:
            obj.save()
        else:
            created = tree.tenant_create(name=obj.name, code=obj.code, time_zone=obj.time_zone)
            obj.pk = created.pk


class GridNodeForm(forms.ModelForm):
    class Meta:
        model = GridNode
        fields = ["parent", "kind", "code", "name", "boundary", "responsible"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk:  # the parent is read-only when editing: moves go through the API
            tenant_id, level = self.instance.tenant_id, self.instance.level
        elif data.get("parent") is None:
            raise ValidationError({"parent": _("Choose the parent grid.")})
        else:
            tenant_id, level = data["parent"].tenant_id, data["parent"].level + 1
        probe = GridNode(
            tenant_id=tenant_id,
            kind=data.get("kind") or "",
            code=data.get("code") or "",
            name=data.get("name") or "",
            boundary=data.get("boundary"),
        )
        tree.check_node(tenant_id=tenant_id, level=level, node=probe, exclude_pk=self.instance.pk)
        if level == Level.PLOT and "responsible" in data:
            before = self.instance.responsible_id if self.instance.pk else None
            after = data["responsible"].pk if data.get("responsible") else None
            if after != before:
                raise ValidationError(
                    {
                        "responsible": _(
                            "A plot's responsible member is set on the plot's assignment page "
                            "(people and field work), not by editing the grid."
                        )
                    }
                )
        return data

    def _post_clean(self) -> None:
        # The tree service validates and writes; skip ModelForm's instance construction checks
        # (they would compare mptt fields the form does not carry).
        pass


@admin.register(GridNode)
class GridNodeAdmin(ScopedModelAdmin, MPTTModelAdmin):
    form = GridNodeForm
    list_display = ["name", "kind", "code", "responsible"]
    list_filter = ["kind"]  # a kind belongs to one level, so it filters by level too
    search_fields = ["name", "code"]
    # Type-ahead pickers instead of a dropdown of every node; their answers come from this admin's
    # scoped queryset (Django's autocomplete view reads the related admin's get_queryset).
    autocomplete_fields = ["parent", "responsible"]
    mptt_level_indent = 20
    list_per_page = 200
    actions = None

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[GridNode]:
        return selectors.node_list(actor=request.user)

    def node_of(self, obj: GridNode) -> GridNode:
        return obj

    def get_readonly_fields(self, request: HttpRequest, obj: GridNode | None = None) -> list[str]:
        return ["parent"] if obj is not None else []

    # The admin pickers that choose a node where the chooser needs `manage_grid` there (a new node's
    # parent, a person's home node) offer only those nodes; the form checks the same on saving.
    MANAGED_PICKERS = {("gridnode", "parent"), ("user", "home_node")}

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[GridNode], search_term: str) -> Any:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        picker = (request.GET.get("model_name", ""), request.GET.get("field_name", ""))
        if picker in self.MANAGED_PICKERS:
            queryset = queryset & scoping.scope_nodes(request.user, "manage_grid")
            if picker == ("gridnode", "parent"):
                queryset = queryset.exclude(level=3)
        return queryset, may_have_duplicates

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "parent":
            kwargs["queryset"] = (
                scoping.scope_nodes(request.user, "manage_grid").exclude(level=3).order_by("tree_id", "lft")
            )
        elif db_field.name == "responsible":
            users = get_user_model().objects.all()
            tenant_id = scoping.tenant_of(request.user)
            if not scoping.is_unrestricted(request.user):
                users = users.filter(tenant_id=tenant_id) if tenant_id is not None else users.none()
            kwargs["queryset"] = users.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: GridNode, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "kind": data["kind"],
            "code": data["code"],
            "name": data["name"],
            "boundary": data.get("boundary"),
            "responsible_id": data["responsible"].pk if data.get("responsible") else None,
        }
        if not change:
            saved = tree.node_create(parent=data["parent"], **fields)
            obj.pk = saved.pk
            return
        tree.node_update(node=obj, **fields)

    def delete_model(self, request: HttpRequest, obj: GridNode) -> None:
        tree.node_delete(node=obj)


# The registry's admin classes (households, residents, places, the access log).
from .registry import admin as registry_admin  # noqa: E402, F401
