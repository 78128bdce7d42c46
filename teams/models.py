"""People: the user model now; organisations, service teams, assignments and visits arrive later."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in. Belongs to one tenant; the home node decides where their pages start."""

    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("tenant")
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
                condition=Q(tenant__isnull=False) | Q(is_superuser=True), name="teams_user_tenant_unless_superuser"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username
