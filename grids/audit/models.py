"""One row per change made in /admin/: who, what, which fields, where in the grid. Append-only.

The row keeps the grid of the object it is about (its ancestor columns), so an administrator reads
the entries of their own subtree through `grids.scoping` like any other data. It names changed
fields, never their values: a resident's numbers or a password never reach the log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import GridScoped


class Action(models.TextChoices):
    ADD = "add", _("added")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")


def _ancestor(name: Any, *, required: bool = False) -> models.ForeignKey:
    # Without a database constraint: the log outlives a grid node deleted after the entry was made.
    return models.ForeignKey(
        "grids.GridNode",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=not required,
        blank=not required,
        related_name="+",
        verbose_name=name,
    )


class AuditEntry(GridScoped):
    city = _ancestor(_("city"), required=True)
    township = _ancestor(_("township"))
    cell = _ancestor(_("cell"))
    plot = _ancestor(_("plot"))
    # No foreign-key constraint on the actor: the log outlives a deleted account, and an append-only
    # row cannot be nulled. The name at the time is kept beside it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who"), max_length=200)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["tenant", "-id"], name="grids_audit_tenant_id"),
            models.Index(fields=["township", "-id"], name="grids_audit_township_id"),
            models.Index(fields=["cell", "-id"], name="grids_audit_cell_id"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_type}:{self.object_id}"
