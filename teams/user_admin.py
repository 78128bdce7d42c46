"""The user admin, scoped: an administrator manages the people whose home node is in their subtree.

Registered from `teams/admin.py`.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import GridNode
from ruian_grid.admin_base import ScopedModelAdmin

from . import selectors, services
from .models import User
from .roles import Role


class UserCreateForm(AdminUserCreationForm):
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)

    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]  # missing from the stubs
        model = User
        fields = ("username", "full_name", "home_node")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_node"].required = True


class ScopedUserAdmin(ScopedModelAdmin, UserAdmin):
    add_form = UserCreateForm
    list_display = ["username", "full_name", "home_node", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "email", "home_node")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "full_name", "home_node", "role", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return selectors.user_list(actor=request.user)

    def node_of(self, obj: User) -> GridNode | None:
        return obj.home_node

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "home_node":
            kwargs["queryset"] = scoping.scope_nodes(request.user, "manage_grid").order_by(
                *scoping.TREE_ORDER
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        if change:
            if "home_node" in form.changed_data and obj.home_node is not None:
                obj.tenant_id = obj.home_node.tenant_id
            obj.save()
            return
        data = form.cleaned_data
        created = services.user_create(
            actor=None if scoping.is_unrestricted(request.user) else cast(User, request.user),
            username=data["username"],
            home_node=data["home_node"],
            role=data["role"],
            password=data.get("password1"),
            full_name=data.get("full_name", ""),
        )
        obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)


admin.site.register(User, ScopedUserAdmin)
