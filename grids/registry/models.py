"""The grid database (网格数据库) after GB/T 31000-2015's basic data for comprehensive governance:
actual housing (buildings and their dwellings), actual population (residents: registered, migrant,
overseas) grouped in households, and establishments (enterprises, shops, public institutions, social
organisations), plot by plot.

Every row carries its tenant and its plot with the plot's ancestors (`GridScoped`) and follows the grid
when it is redrawn. Personal numbers are stored three ways: ciphertext (`*_enc`, see `crypto`), a keyed
hash for exact search (`*_hash`) and a masked form for display (`*_masked`); sex and birth year are
derived from the ID number and stored, so counts never decrypt. Rows are never deleted: they are
deregistered, and django-simple-history keeps every version with who and when.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from grids.models import GridNode, GridScoped, Tenant, copied_node, position_constraint


def list_indexes(short: str, *order: str, city: bool = True) -> list[models.Index]:
    """One index per tier's list, in the list's order: (tenant, ancestor column, *order).

    Keyset pages read them from the position on, so a page costs the same at any depth and reads no
    row outside the user's scope. A city's rows are all its tenant's: (tenant, *order) serves it, and
    `city=False` says a unique constraint on those columns already does.
    """
    levels = ["township", "cell", "plot"]
    found = [
        models.Index(fields=["tenant", level, *order], name=f"grids_{short}_by_{level}") for level in levels
    ]
    if city:
        found.insert(0, models.Index(fields=["tenant", *order], name=f"grids_{short}_by_city"))
    return found


def _copied_tenant() -> models.ForeignKey[Tenant, Tenant]:
    """The tenant column of a household or resident: a copy of its plot's tenant, protected in the ORM
    but not checked again by a database constraint (decision 1104)."""
    return models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"), db_constraint=False
    )


class Status(models.TextChoices):
    ACTIVE = "active", _("active")
    DEREGISTERED = "deregistered", _("deregistered")


class Tag(models.IntegerChoices):
    """Service tags of a household, stored as bit flags in one integer column."""

    ELDERLY_ALONE = 1, _("elderly living alone")
    DISABILITY = 2, _("disability")
    LOW_INCOME = 4, _("low income")
    MIGRANT_WORKER = 8, _("migrant worker")
    LEFT_BEHIND_CHILD = 16, _("left-behind child")
    VETERAN = 32, _("veteran")
    DISPUTE = 64, _("household with a dispute")


def tags_of(mask: int) -> list[Tag]:
    return [t for t in Tag if mask & t.value]


def tags_mask(tags: list[int] | list[Tag] | tuple[int, ...]) -> int:
    mask = 0
    for t in tags:
        mask |= int(t)
    return mask


class BuildingKind(models.TextChoices):
    RESIDENTIAL = "residential", _("residential")
    COMMERCIAL = "commercial", _("commercial")
    MIXED = "mixed", _("mixed use")
    FACTORY = "factory", _("factory")
    OTHER = "other", _("other")


class Building(GridScoped):
    """A building (实有房屋·楼栋) in a plot; its code is unique in the city and is the import key."""

    FOLLOWS_GRID = True

    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    code = models.CharField(_("building code"), max_length=40)
    name = models.CharField(_("name or address"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=BuildingKind.choices, default=BuildingKind.RESIDENTIAL
    )
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="grids_building_code_unique_in_tenant"),
        ]
        indexes = [
            models.Index(fields=["tenant", "plot", "status"], name="grids_building_plot"),
            *list_indexes("building", "code", city=False),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DwellingUse(models.TextChoices):
    OWNER = "owner", _("owner-occupied")
    RENTED = "rented", _("rented")
    VACANT = "vacant", _("vacant")
    BUSINESS = "business", _("business")
    OTHER = "other", _("other")


class Dwelling(GridScoped):
    """A dwelling or room (实有房屋·房屋) inside a building; key: building and number."""

    FOLLOWS_GRID = True

    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="dwellings", verbose_name=_("building")
    )
    number = models.CharField(_("room number"), max_length=40)
    use = models.CharField(_("use"), max_length=16, choices=DwellingUse.choices, default=DwellingUse.OWNER)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering = ["building_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"], name="grids_dwelling_number_unique_in_building"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "plot"], name="grids_dwelling_plot"),
            *list_indexes("dwelling", "building", "number"),
        ]

    def __str__(self) -> str:
        return f"{self.building.code} {self.number}"


class Household(GridScoped):
    """A household (户): the unit a plot's ~150 counts; its number is unique in the city."""

    FOLLOWS_GRID = True

    # Copies of the plot's tenant and ancestors: indexed, not checked again at commit (decision 1104).
    tenant = _copied_tenant()
    city = copied_node(_("city"), null=False)
    township = copied_node(_("township"))
    cell = copied_node(_("cell"))
    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    number = models.CharField(_("household number"), max_length=32)
    address = models.CharField(_("address"), max_length=200, blank=True)
    dwelling = models.ForeignKey(
        Dwelling,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("dwelling"),
    )
    tags = models.PositiveIntegerField(_("tags"), default=0)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    deregistered_reason = models.CharField(_("reason for deregistering"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, null=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="grids_household_number_unique_in_tenant"
            ),
            position_constraint("grids_household"),
        ]
        indexes = [
            models.Index(fields=["tenant", "plot", "status"], name="grids_household_plot"),
            models.Index(fields=["tenant", "township", "status"], name="grids_household_township"),
            *list_indexes("household", "number", city=False),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def tag_list(self) -> list[Tag]:
        return tags_of(self.tags)


class HouseholdTally(GridScoped):
    """Active households per plot, kept by the registry's services in the same transaction as the
    change (create, move, deregister, import), so a grid page sums a few rows per plot instead of
    counting every household below each child. `grids.registry.services.tally_rebuild` recounts a
    city from its households (after loads that bypass the services)."""

    FOLLOWS_GRID = True

    plot = models.OneToOneField(GridNode, on_delete=models.CASCADE, related_name="+", verbose_name=_("plot"))
    households = models.IntegerField(_("active households"), default=0)

    class Meta:
        verbose_name = _("household tally")
        verbose_name_plural = _("household tallies")
        indexes = [
            models.Index(fields=["tenant", "city"], name="grids_tally_city"),
            models.Index(fields=["tenant", "township"], name="grids_tally_township"),
            models.Index(fields=["tenant", "cell"], name="grids_tally_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.plot_id}: {self.households}"


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("resident ID card")
    OTHER = "other", _("passport or other document")


class PopulationType(models.TextChoices):
    REGISTERED = "registered", _("registered resident")
    MIGRANT = "migrant", _("migrant")
    OVERSEAS = "overseas", _("overseas")


class Relation(models.TextChoices):
    HEAD = "head", _("head of household")
    # With a context: the bare words are also the grid's "parent" and "child" nodes.
    SPOUSE = "spouse", pgettext_lazy("relation to head", "spouse")
    CHILD = "child", pgettext_lazy("relation to head", "child")
    PARENT = "parent", pgettext_lazy("relation to head", "parent")
    GRANDCHILD = "grandchild", pgettext_lazy("relation to head", "grandchild")
    OTHER = "other", _("other relative or lodger")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")


class AgeBand(models.TextChoices):
    CHILD = "0-17", _("under 18")
    ADULT = "18-59", _("18 to 59")
    SENIOR = "60-79", _("60 to 79")
    ELDERLY = "80+", _("80 and over")


def age_band_expression(year: int | None = None) -> Case:
    """The age band as a database expression over the stored birth year (no decryption)."""
    year = year or dt.date.today().year  # noqa: DTZ011 - calendar year
    return Case(
        When(birth_year__isnull=True, then=Value("")),
        When(birth_year__gt=year - 18, then=Value(AgeBand.CHILD.value)),
        When(birth_year__gt=year - 60, then=Value(AgeBand.ADULT.value)),
        When(birth_year__gt=year - 80, then=Value(AgeBand.SENIOR.value)),
        default=Value(AgeBand.ELDERLY.value),
        output_field=models.CharField(),
    )


def age_band_filter(band: str, year: int | None = None) -> Q:
    year = year or dt.date.today().year  # noqa: DTZ011 - calendar year
    return {
        AgeBand.CHILD: Q(birth_year__gt=year - 18),
        AgeBand.ADULT: Q(birth_year__lte=year - 18, birth_year__gt=year - 60),
        AgeBand.SENIOR: Q(birth_year__lte=year - 60, birth_year__gt=year - 80),
        AgeBand.ELDERLY: Q(birth_year__lte=year - 80),
    }.get(band, Q())


class Resident(GridScoped):
    """A person of the actual population (实有人口), living in one household; key: the ID number's hash."""

    FOLLOWS_GRID = True

    # Copies of the plot's tenant and ancestors: indexed, not checked again at commit (decision 1104).
    tenant = _copied_tenant()
    city = copied_node(_("city"), null=False)
    township = copied_node(_("township"))
    cell = copied_node(_("cell"))
    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_type = models.CharField(
        _("document type"), max_length=16, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number_enc = models.TextField(_("ID number (encrypted)"), editable=False)
    id_number_hash = models.CharField(_("ID number (keyed hash)"), max_length=64, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=24, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    phone_enc = models.TextField(_("phone (encrypted)"), blank=True, editable=False)
    phone_hash = models.CharField(_("phone (keyed hash)"), max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    population_type = models.CharField(
        _("population type"), max_length=16, choices=PopulationType.choices, default=PopulationType.REGISTERED
    )
    relation = models.CharField(
        _("relation to head"), max_length=16, choices=Relation.choices, default=Relation.OTHER
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    deregistered_reason = models.CharField(_("reason for deregistering"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "id_number_hash"], name="grids_resident_id_unique_in_tenant"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "plot", "status"], name="grids_resident_plot"),
            models.Index(fields=["tenant", "phone_hash"], name="grids_resident_phone_hash"),
            models.Index(fields=["tenant", "name"], name="grids_resident_name"),
            *list_indexes("resident", "household", "id"),
        ]

    def __str__(self) -> str:
        return self.name


class EstablishmentKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("enterprise")
    SHOP = "shop", _("shop")
    INSTITUTION = "institution", _("public institution")
    SOCIAL = "social", _("social organisation")
    OTHER = "other", _("other")


class Establishment(GridScoped):
    """A registered establishment (单位场所: enterprise, shop, public institution, social organisation);
    key: its unified social credit code."""

    FOLLOWS_GRID = True

    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=EstablishmentKind.choices, default=EstablishmentKind.ENTERPRISE
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="establishments",
        verbose_name=_("building"),
    )
    staff_count = models.PositiveIntegerField(_("staff"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone_enc = models.TextField(_("contact phone (encrypted)"), blank=True, editable=False)
    contact_phone_hash = models.CharField(
        _("contact phone (keyed hash)"), max_length=64, blank=True, editable=False
    )
    contact_phone_masked = models.CharField(_("contact phone"), max_length=16, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("establishment")
        verbose_name_plural = _("establishments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "credit_code"], name="grids_establishment_code_unique_in_tenant"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "plot", "status"], name="grids_establishment_plot")]

    def __str__(self) -> str:
        return self.name


class PersonalDataAccess(GridScoped):
    """One reveal of one resident's numbers: who, whose, when, why. Append-only (a PostgreSQL trigger
    refuses UPDATE and DELETE); it keeps the grid where it happened."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("who")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("whose")
    )
    fields = models.CharField(_("numbers revealed"), max_length=100)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.actor_id} → {self.resident_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class ImportKind(models.TextChoices):
    RESIDENTS = "residents", _("households and residents")
    BUILDINGS = "buildings", _("buildings and dwellings")
    ESTABLISHMENTS = "establishments", _("establishments")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ImportJob(models.Model):
    """One uploaded workbook and how its import went; the file itself sits in Django storage."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    source = models.CharField(_("stored file"), max_length=255, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows read"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    refused = models.PositiveIntegerField(_("refused"), default=0)
    refused_file = models.CharField(_("refused rows file"), max_length=255, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "actor", "-created_at"], name="grids_importjob_actor")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
