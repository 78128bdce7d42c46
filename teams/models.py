"""People: the user model now; units, service teams, assignments and visits arrive later."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in. Belongs to one tenant; the home node decides where their pages start."""

    tenant = models.ForeignKey(
        "grids.Tenant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("tenant"),
    )
    home_node = models.ForeignKey(
        "grids.GridNode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="home_users",
        verbose_name=_("home node"),
    )
    full_name = models.CharField(_("full name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Only platform superusers live outside every tenant.
            models.CheckConstraint(
                condition=Q(tenant__isnull=False) | Q(is_superuser=True),
                name="teams_user_tenant_unless_superuser",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", _("member department")
    TOWNSHIP_OFFICE = "township_office", _("township office")
    CELL_OFFICE = "cell_office", _("cell governance office")


class Unit(models.Model):
    """A responsible unit: a member department of the committee, a township office or a cell office.

    Cases are sent to units; their members handle them. Offices stand at a grid node (their
    township or cell); departments serve the whole city and stand at none.
    """

    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, related_name="units", verbose_name=_("tenant")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    code = models.CharField(_("code"), max_length=48)
    name = models.CharField(_("name"), max_length=100)
    node = models.ForeignKey(
        "grids.GridNode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("grid node served"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        User, through="Membership", related_name="units", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["tenant", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="teams_unit_code_unique_in_tenant"),
            models.CheckConstraint(
                condition=Q(kind="department") | Q(node__isnull=False), name="teams_unit_office_has_node"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    HEAD = "head", _("head")
    MEMBER = "member", _("member")


class Membership(models.Model):
    """A person working in a unit (a person may work in several)."""

    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("unit")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(
        _("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["unit", "user"], name="teams_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"

    def clean(self) -> None:
        """A person works only in units of their own city (checked by the admin's forms)."""
        from django.core.exceptions import ValidationError

        if self.user_id and self.unit_id and self.user.tenant_id != self.unit.tenant_id:
            raise ValidationError({"user": _("The person belongs to another city.")})


# Inbox and delivery outbox (teams/inbox_models.py).
from .inbox_models import CityChannel, Delivery, InboxItem  # noqa: E402, F401
