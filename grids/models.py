"""Tenants (one per city), the grid tree and the registry rows that hang off it.

The tree is written only by `grids.tree`; read access is decided only by `grids.scoping`.
"""

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from mptt.models import MPTTModel, TreeForeignKey

from ruian_grid.choices import quick_field_display

division_code = RegexValidator(r"^\d{6,12}$", _("An administrative division code is 6 to 12 digits."))
node_code = RegexValidator(r"^[0-9A-Za-z-]{1,32}$", _("A code is 1 to 32 letters, digits or hyphens."))


class Tenant(models.Model):
    """A city: everything it owns carries its id."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("division code"), max_length=12, unique=True, validators=[division_code])
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    extent = models.JSONField(
        _("extent"),
        null=True,
        blank=True,
        help_text=_(
            "The city's bounding box [west, south, east, north] in degrees; positions outside are refused"
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Level(models.IntegerChoices):
    CITY = 0, _("city grid")
    TOWNSHIP = 1, _("township grid")
    CELL = 2, _("cell grid")
    PLOT = 3, _("plot")


class Kind(models.TextChoices):
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    STREET = "street", _("street")
    TOWN = "town", _("town")
    DEVZONE = "devzone", _("development zone")
    VILLAGE = "village", _("village")
    COMMUNITY = "community", _("community")
    ENTERPRISE = "enterprise", _("enterprise")
    PLOT = "plot", _("plot")


KIND_LEVEL: dict[str, int] = {
    Kind.CITY: Level.CITY,
    Kind.COUNTY: Level.CITY,
    Kind.STREET: Level.TOWNSHIP,
    Kind.TOWN: Level.TOWNSHIP,
    Kind.DEVZONE: Level.TOWNSHIP,
    Kind.VILLAGE: Level.CELL,
    Kind.COMMUNITY: Level.CELL,
    Kind.ENTERPRISE: Level.CELL,
    Kind.PLOT: Level.PLOT,
}


def _kind_fits_level() -> Q:
    by_level: dict[int, list[str]] = {}
    for kind, level in KIND_LEVEL.items():
        by_level.setdefault(level, []).append(str(kind))
    q = Q()
    for level, kinds in sorted(by_level.items()):
        q |= Q(level=level, kind__in=sorted(kinds))
    return q


class GridNode(MPTTModel):
    """One grid at one of the four levels. Create, move and delete it through `grids.tree` only."""

    _get_FIELD_display = quick_field_display  # grid pages show the kind of every child

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="nodes", verbose_name=_("tenant")
    )
    parent = TreeForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=32, validators=[node_code])
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for",
        verbose_name=_("responsible person"),
    )

    # Within a tree no two nodes share a lft (keyset pages in tree order need no id after it).
    KEYSET_UNIQUE = (("tree_id", "lft"),)

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name = _("grid node")
        verbose_name_plural = _("grid nodes")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="grids_node_code_unique_in_tenant"),
            models.CheckConstraint(condition=_kind_fits_level(), name="grids_node_kind_fits_level"),
            models.CheckConstraint(
                condition=Q(level=0, parent__isnull=True) | Q(level__gt=0, parent__isnull=False),
                name="grids_node_root_iff_level_zero",
            ),
        ]
        indexes = [
            models.Index(fields=["tree_id", "lft", "rght"], name="grids_node_range"),
            models.Index(fields=["tree_id", "level", "lft"], name="grids_node_level_range"),
            models.Index(fields=["tenant", "level"], name="grids_node_tenant_level"),
        ]
        permissions = [
            ("manage_grid", _("Manage the grid below a node")),
            ("view_personal_data", _("Reveal residents' personal numbers")),
            ("manage_registry", _("Maintain households, residents and places")),
            ("record_case", _("Record cases")),
            ("manage_cases", _("Dispatch and handle cases")),
            ("assign_plots", _("Assign plots' responsible members and make pairings")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)


class GridNodeUserPermission(UserObjectPermissionBase):
    """django-guardian's direct foreign-key table for grants to users on grid nodes."""

    content_object = models.ForeignKey(GridNode, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("user grant on a grid node")
        verbose_name_plural = _("user grants on grid nodes")


class GridNodeGroupPermission(GroupObjectPermissionBase):
    """django-guardian's direct foreign-key table for grants to groups on grid nodes."""

    content_object = models.ForeignKey(GridNode, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("group grant on a grid node")
        verbose_name_plural = _("group grants on grid nodes")


def position_constraint(prefix: str) -> models.CheckConstraint:
    """A point taken in the field (see `grids.geo`) has both latitude and longitude, or neither."""
    return models.CheckConstraint(
        condition=Q(latitude__isnull=True, longitude__isnull=True)
        | Q(latitude__isnull=False, longitude__isnull=False),
        name=f"{prefix}_position_both_or_neither",
    )


def copied_node(label: Any, *, null: bool = True) -> models.ForeignKey[Any, Any]:
    """A grid column a row copies from another row written with it (a case's, a plot's ancestors):
    `on_delete=PROTECT` in the ORM, not checked again by a database constraint (decisions 1002 and
    1104: the row it is copied from keeps its own checked key)."""
    return models.ForeignKey(
        GridNode,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
        verbose_name=label,
        db_constraint=False,
    )


class GridScoped(models.Model):
    """The ancestor columns every tenant-owned data row carries, written when the row is created.

    `grids.scoping.scope_rows` filters on them. Rows whose model sets `FOLLOWS_GRID = True` (the
    registry) are rewritten by `grids.tree` when the grid is redrawn; other rows (cases) keep the
    grid they were recorded in.
    """

    FOLLOWS_GRID = False
    # Every list row shows labels of choices: read them from a dict made once per field.
    _get_FIELD_display = quick_field_display

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    city = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("city"))
    township = models.ForeignKey(
        GridNode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("township"),
    )
    cell = models.ForeignKey(
        GridNode, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("cell")
    )
    plot = models.ForeignKey(
        GridNode, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("plot")
    )

    class Meta:
        abstract = True


# The audit log of admin changes lives in grids/audit/.
from .audit.models import AuditEntry  # noqa: E402, F401

# The registry (households, residents, buildings, establishments) lives in grids/registry/.
from .registry.models import (  # noqa: E402, F401
    Building,
    Dwelling,
    Establishment,
    Household,
    HouseholdTally,
    ImportJob,
    PersonalDataAccess,
    Resident,
)
