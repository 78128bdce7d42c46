"""People: users, units (offices, departments, leadership groups, service teams), plot assignments
and visits."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.access import new_access_version
from grids.models import GridScoped


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
    # Names the state of this person's rights and memberships: a new random value whenever a grant, a
    # membership or the tenant's tree changes, so what was read under the old value is never used
    # again (grids.scoping keeps grants and units in the cache under it). Loaded with the user on
    # every request, so checking it costs nothing.
    access_version = models.BigIntegerField(_("access version"), default=new_access_version, editable=False)

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
        return person_name(self.full_name, self.username)


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", _("member department")
    TOWNSHIP_OFFICE = "township_office", _("township office")
    CELL_OFFICE = "cell_office", _("cell governance office")
    LEADERSHIP_GROUP = "leadership_group", _("leadership group")
    SERVICE_TEAM = "service_team", _("service team")


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
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_units",
        verbose_name=_("under"),
        help_text=_("A service team stands under its cell's governance office."),
    )
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
    DEPUTY = "deputy", _("deputy")
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
    title = models.CharField(
        _("title"), max_length=50, blank=True, help_text=_("e.g. group leader, captain, liaison")
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

# --- field work: a person on every plot, visits (走访) ----------------------------------------------


class PlotAssignment(GridScoped):
    """Who is responsible for a plot (定格、定人、定责) from when to when, and with which duties.

    One open assignment per plot (a partial unique index); reassigning closes the open one. The grid
    node's `responsible` column is a copy of the open assignment's member, written only by
    `teams.services.plot_assign` in the same transaction (decision 0901).
    """

    FOLLOWS_GRID = True

    plot = models.ForeignKey(
        "grids.GridNode", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("plot")
    )
    member = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="plot_assignments", verbose_name=_("responsible member")
    )
    duties = models.TextField(_("duties"), blank=True)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("assigned by")
    )

    class Meta:
        verbose_name = _("plot assignment")
        verbose_name_plural = _("plot assignments")
        ordering = ["plot_id", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plot"], condition=Q(ended_at__isnull=True), name="teams_assignment_one_open_per_plot"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="teams_assignment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["member", "plot"],
                condition=Q(ended_at__isnull=True),
                name="teams_assignment_open_member",
            ),
            models.Index(fields=["tenant", "township", "cell"], name="teams_assignment_township"),
        ]

    def __str__(self) -> str:
        return f"{self.plot_id} → {self.member_id}"


class VisitCadence(models.Model):
    """How often the city wants each kind of household visited.

    `tag` 0 is every household; other values are one of the registry's household tags. A household
    falls due after the shortest interval among the cadences that apply to it.
    """

    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    tag = models.PositiveIntegerField(_("kind of household"), default=0)
    interval_days = models.PositiveSmallIntegerField(_("visit at least every (days)"))

    class Meta:
        verbose_name = _("visit cadence")
        verbose_name_plural = _("visit cadences")
        ordering = ["tenant", "interval_days"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "tag"], name="teams_cadence_one_per_kind"),
            models.CheckConstraint(condition=Q(interval_days__gte=1), name="teams_cadence_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.tag}: {self.interval_days}"


class VisitOutcome(models.TextChoices):
    ROUTINE = "routine", _("nothing to follow up")
    RESOLVED = "resolved", _("resolved on the spot")
    CASE = "case", _("raise a case")


class Visit(GridScoped):
    """One visit to a household: walk, listen, record, resolve (走、听、建、解).

    `client_id` is made by the phone: sending the same visit twice stores it once. A visit keeps the
    grid it was made in, and the assignment in force (who was responsible at that moment).
    """

    household = models.ForeignKey(
        "grids.Household", on_delete=models.PROTECT, related_name="visits", verbose_name=_("household")
    )
    visitor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="visits", verbose_name=_("visitor")
    )
    assignment = models.ForeignKey(
        PlotAssignment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("responsibility in force"),
    )
    client_id = models.UUIDField(_("client id"), default=uuid.uuid4, unique=True, editable=False)
    visited_on = models.DateField(_("visited on"))
    seen = models.TextField(_("what was seen"), blank=True)
    heard = models.TextField(_("what the residents said"), blank=True)
    record_note = models.CharField(_("change to the household record"), max_length=200, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=VisitOutcome.choices, default=VisitOutcome.ROUTINE
    )
    resolution = models.TextField(_("how it was resolved"), blank=True)
    pairing = models.ForeignKey(
        "Pairing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("pairing"),
        help_text=_(
            "Set when the visit was made under a pairing (联村、联户) rather than a plot assignment."
        ),
    )
    created_at = models.DateTimeField(_("stored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [
            # The last visit of each household (the due list) and this month's visits of a plot.
            models.Index(fields=["household", "visited_on"], name="teams_visit_household_day"),
            models.Index(fields=["tenant", "plot", "visited_on"], name="teams_visit_plot_day"),
            models.Index(fields=["tenant", "township", "visited_on"], name="teams_visit_township_day"),
            models.Index(fields=["visitor", "visited_on"], name="teams_visit_visitor_day"),
            models.Index(
                fields=["pairing", "visited_on"],
                condition=Q(pairing__isnull=False),
                name="teams_visit_pairing_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.household_id}"


def visit_photo_path(instance: VisitPhoto, filename: str) -> str:
    return f"visits/{instance.tenant_id}/{uuid.uuid4().hex}{filename[filename.rfind('.') :][:6]}"


class VisitPhoto(models.Model):
    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos", verbose_name=_("visit"))
    file = models.FileField(_("file"), upload_to=visit_photo_path, max_length=200)
    name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["visit_id", "id"]

    def __str__(self) -> str:
        return self.name


# --- pairings (百家单位联百村、百名干警联百户) and the work log (工作日志) ------------------------------


class PairingKind(models.TextChoices):
    UNIT_VILLAGE = "unit_village", _("unit paired with a village")
    OFFICER_HOUSEHOLD = "officer_household", _("police officer paired with a household")


class Pairing(GridScoped):
    """A unit paired with a village (cell), or a police officer paired with a household.

    The row carries the ancestor columns of its cell or household, so reads are scoped like every
    other data row. The pairing is also the visitor's reason to visit: a member of the paired unit may
    visit any household of the village, the officer their household (decision 0902).
    """

    FOLLOWS_GRID = True

    kind = models.CharField(_("kind"), max_length=20, choices=PairingKind.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="pairings", verbose_name=_("unit")
    )
    officer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
        verbose_name=_("police officer"),
    )
    household = models.ForeignKey(
        "grids.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
        verbose_name=_("household"),
    )
    note = models.CharField(_("what the pairing undertakes"), max_length=200, blank=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("paired by")
    )

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="unit_village",
                        unit__isnull=False,
                        officer__isnull=True,
                        household__isnull=True,
                        cell__isnull=False,
                    )
                    | Q(
                        kind="officer_household",
                        unit__isnull=True,
                        officer__isnull=False,
                        household__isnull=False,
                    )
                ),
                name="teams_pairing_shape",
            ),
            models.UniqueConstraint(
                fields=["unit", "cell"],
                condition=Q(ended_on__isnull=True, kind="unit_village"),
                name="teams_pairing_one_open_unit_village",
            ),
            models.UniqueConstraint(
                fields=["officer", "household"],
                condition=Q(ended_on__isnull=True, kind="officer_household"),
                name="teams_pairing_one_open_officer_household",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="teams_pairing_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "township", "kind"], name="teams_pairing_township"),
            models.Index(
                fields=["officer"], condition=Q(ended_on__isnull=True), name="teams_pairing_open_officer"
            ),
            models.Index(fields=["unit"], condition=Q(ended_on__isnull=True), name="teams_pairing_open_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class NoteKind(models.TextChoices):
    NOTE = "note", _("note")
    ANNOTATION = "annotation", _("annotation")


class WorkLogNote(GridScoped):
    """A line a person adds to a daily work log (工作日志): their own or their office's (a grid node's).

    Notes are written on the day itself and may be edited that day; once the day is over (Asia/Shanghai)
    it is closed and only annotations are added, which are never changed or removed (decision 0902).
    The row carries the ancestor columns of the log's grid (the office's node, or the person's home
    node) so a township reads the notes of its grid through the usual scoping.
    """

    person = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log_notes",
        verbose_name=_("whose log"),
    )
    node = models.ForeignKey(
        "grids.GridNode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="log_notes",
        verbose_name=_("office's grid"),
    )
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=10, choices=NoteKind.choices, default=NoteKind.NOTE)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by"))
    text = models.TextField(_("text"), max_length=2000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)

    class Meta:
        verbose_name = _("work log note")
        verbose_name_plural = _("work log notes")
        ordering = ["day", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, node__isnull=True)
                | Q(person__isnull=True, node__isnull=False),
                name="teams_lognote_person_or_node",
            ),
            models.CheckConstraint(
                condition=Q(kind="note") | Q(edited_at__isnull=True), name="teams_lognote_annotation_unedited"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "day"], name="teams_lognote_person_day"),
            models.Index(fields=["node", "day"], name="teams_lognote_node_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.text[:30]}"


def person_name(full_name: str, username: str) -> str:
    """How a person is named on screen (`str(user)`), from the two columns alone."""
    return full_name or username
