"""The user admin, scoped: an administrator manages the people whose home node is in their subtree.

Registered from `teams/admin.py`.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import GridNode
from grids.services import grant_check, rights_within
from ruian_grid.admin_base import ScopedModelAdmin

from . import selectors, services
from .models import User
from .roles import ROLE_PERMS, Role


class UserCreateForm(AdminUserCreationForm):
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    actor: User | None = None  # set by the admin: the signed-in administrator (None: superuser)

    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]  # missing from the stubs
        model = User
        fields = ("username", "full_name", "home_node")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_node"].required = True

    def clean(self) -> dict[str, Any]:
        """Refuse, as form errors, a role the administrator may not grant at the chosen node."""
        data = super().clean() or self.cleaned_data
        node, role = data.get("home_node"), data.get("role")
        if node is not None and role in ROLE_PERMS:
            try:
                grant_check(actor=self.actor, perms=ROLE_PERMS[role], node=node)
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


class ScopedUserAdmin(ScopedModelAdmin, UserAdmin):
    add_form = UserCreateForm
    list_display = ["username", "full_name", "home_node", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["username", "full_name"]
    autocomplete_fields = ["home_node"]
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

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            actor = None if scoping.is_unrestricted(request.user) else cast(User, request.user)
            form = type("ScopedUserCreateForm", (form,), {"actor": actor})
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Staff status follows the role given at creation; only a platform superuser changes it.
        extra = [] if scoping.is_unrestricted(request.user) else ["is_staff"]
        return [*self.readonly_fields, *extra]

    def _allowed(self, request: HttpRequest, perm: str, obj: Any = None) -> bool:
        """Besides the node: nobody changes a person whose rights exceed their own (taking over
        such an account, by a new password say, would be an escalation)."""
        if not super()._allowed(request, perm, obj):
            return False
        if obj is None or perm == self.view_perm or scoping.is_unrestricted(request.user):
            return True
        return rights_within(actor=cast(User, request.user), user=obj)

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
        # For the audit entry (log_addition follows): the role and the rights it gave, at which node.
        obj.audit_grant = {  # type: ignore[attr-defined]
            "role": str(data["role"]),
            "rights": list(ROLE_PERMS[data["role"]]),
            "node": data["home_node"].pk,
        }

    def audit_details(self, request: HttpRequest, obj: Any, action: str) -> dict[str, Any]:
        return dict(getattr(obj, "audit_grant", {}))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)


admin.site.register(User, ScopedUserAdmin)
