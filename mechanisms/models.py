"""The five working mechanisms: rows and their invariants only.

Every change goes through `mechanisms.services`, every read through `mechanisms.selectors`. Rows
carry the ancestor columns of the node they belong to (`GridScoped`), written when created, and keep
that grid when it is later redrawn (`FOLLOWS_GRID = False`), as cases do.

- 矛盾联调: `DisputeReview` (one per township or city and month) and its `ReviewItem`s (the
  responsibility confirmed for each open dispute, through the cases workflow).
- 部门联动: `Meeting`, `MeetingInvitee`, `Decision` (action items), `Operation` (joint enforcement).
- 信息共享: `InfoPost` and `InfoRead` (read receipts).
- 治安联防: `SecurityAnalysis`, `SecurityWarning` and `WarningAck`, `Patrol` and `PatrolFinding`.
- 预警: `EarlyWarningDraft` (raised nightly from the incidents' own baseline).
- 专项行动: `Campaign` and `Milestone` (progress measured from the data).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from grids.models import GridNode, GridScoped, Tenant
from teams.models import Unit, UnitKind

TEXT_MAX = 5000
NOTE_MAX = 2000


# --- 矛盾联调: the monthly dispute review ------------------------------------------------------


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("open")
    SIGNED = "signed", _("signed off")


class DisputeReview(GridScoped):
    """The month's review of disputes at one township or the city (one per node and month)."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    month = models.DateField(_("month reviewed"), help_text=_("The first day of the month reviewed."))
    status = models.CharField(_("status"), max_length=8, choices=ReviewStatus.choices, default="open")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_at = models.DateTimeField(_("sign off by"))
    analysis = models.TextField(_("analysis"), blank=True, max_length=TEXT_MAX)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    signed_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    # What was signed, exactly: figures, each open dispute with its confirmed responsibility, analysis.
    snapshot = models.JSONField(_("signed record"), null=True, blank=True)
    chased_at = models.DateTimeField(_("reminded (late) at"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("sent for supervision at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("monthly dispute review")
        verbose_name_plural = _("monthly dispute reviews")
        ordering = ["-month", "node_id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "month"], name="mech_review_one_per_node_month"),
            models.CheckConstraint(
                condition=Q(status="open", signed_at__isnull=True, snapshot__isnull=True)
                | Q(
                    status="signed", signed_at__isnull=False, snapshot__isnull=False, signed_by__isnull=False
                ),
                name="mech_review_signed_iff_snapshot",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "township", "month"], name="mech_review_by_township"),
            models.Index(fields=["tenant", "city", "month"], name="mech_review_by_city"),
            models.Index(fields=["status", "due_at"], name="mech_review_due", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.node_id}"

    @property
    def is_signed(self) -> bool:
        return self.status == ReviewStatus.SIGNED


class ReviewItem(models.Model):
    """The responsibility confirmed for one open dispute in a review (unit, person, deadline)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(DisputeReview, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("case"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(_("deadline"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("confirmed responsibility")
        verbose_name_plural = _("confirmed responsibilities")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["review", "case"], name="mech_item_one_per_case")]

    def __str__(self) -> str:
        return f"{self.review_id}/{self.case_id}"


# --- 部门联动: joint meetings, decisions, joint enforcement -------------------------------------


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    HELD = "held", _("held")


class Meeting(GridScoped):
    """A joint meeting (工作例会) of member departments, called at the city or a township."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    agenda = models.TextField(_("agenda"), blank=True, max_length=TEXT_MAX)
    minutes = models.TextField(_("minutes"), blank=True, max_length=TEXT_MAX)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default="scheduled")
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("joint meeting")
        verbose_name_plural = _("joint meetings")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "city", "starts_at"], name="mech_meeting_by_city"),
            models.Index(fields=["tenant", "township", "starts_at"], name="mech_meeting_by_township"),
        ]

    def __str__(self) -> str:
        return self.title


class MeetingInvitee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitees")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "unit"], name="mech_invitee_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.unit_id}"


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")


class Decision(models.Model):
    """A meeting's decision: an action item with an owner unit and a deadline, followed like a case."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    text = models.CharField(_("decision"), max_length=500)
    owner = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner unit"))
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=6, choices=DecisionStatus.choices, default="open")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.TextField(blank=True, max_length=NOTE_MAX)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="mech_decision_by_owner"),
            models.Index(fields=["tenant", "due_at"], name="mech_decision_due", condition=Q(status="open")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", done_at__isnull=True) | Q(status="done", done_at__isnull=False),
                name="mech_decision_done_iff_time",
            )
        ]

    def __str__(self) -> str:
        return self.text


class Operation(GridScoped):
    """A joint enforcement operation (联合整治): the hazard cases it targets, and their progress."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    title = models.CharField(_("title"), max_length=200)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cases = models.ManyToManyField(Case, related_name="+", verbose_name=_("cases targeted"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("joint enforcement operation")
        verbose_name_plural = _("joint enforcement operations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


# --- 信息共享 ------------------------------------------------------------------------------------


class InfoPost(GridScoped):
    """A note or guidance posted at a node: read down the tree, and up when the author shares it up."""

    node = models.ForeignKey(
        GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("posted at")
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=TEXT_MAX)
    share_up = models.BooleanField(_("also visible to the tiers above"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("shared information")
        verbose_name_plural = _("shared information")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(F("node"), F("created_at").desc(), name="mech_post_by_node"),
            models.Index(F("tenant"), F("township"), F("created_at").desc(), name="mech_post_by_township"),
        ]

    def __str__(self) -> str:
        return self.title


class InfoRead(models.Model):
    post = models.ForeignKey(InfoPost, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["read_at"]
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="mech_read_once")]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.user_id}"


# --- 治安联防 ------------------------------------------------------------------------------------


class SecurityAnalysis(GridScoped):
    """A security situation analysis (治安形势分析) for one node and period; figures frozen when made."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to (exclusive)"))
    figures = models.JSONField(_("figures"), default=dict)
    conclusions = models.TextField(_("conclusions"), blank=True, max_length=TEXT_MAX)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("security situation analysis")
        verbose_name_plural = _("security situation analyses")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="mech_analysis_period")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.period_start}"


class WarningLevel(models.TextChoices):
    BLUE = "blue", _("blue (general)")
    YELLOW = "yellow", _("yellow (serious)")
    ORANGE = "orange", _("orange (grave)")
    RED = "red", _("red (very grave)")


class WarningStatus(models.TextChoices):
    IN_FORCE = "in_force", _("in force")
    EXPIRED = "expired", _("expired")


class SecurityWarning(GridScoped):
    """A security warning (治安预警预报) to a subtree: every cell under it acknowledges it."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("target"))
    level = models.CharField(_("level"), max_length=8, choices=WarningLevel.choices)
    title = models.CharField(_("title"), max_length=200)
    measures = models.TextField(_("measures to take"), max_length=TEXT_MAX)
    starts_at = models.DateTimeField(_("holds from"))
    ends_at = models.DateTimeField(_("holds until"))
    status = models.CharField(_("status"), max_length=10, choices=WarningStatus.choices, default="in_force")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)
    cells_expected = models.PositiveIntegerField(_("cells to acknowledge"), default=0)
    chased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("security warning")
        verbose_name_plural = _("security warnings")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="mech_warning_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "city", "published_at"], name="mech_warning_by_city"),
            models.Index(fields=["status", "ends_at"], name="mech_warning_expiry"),
        ]

    def __str__(self) -> str:
        return self.title


class WarningAck(models.Model):
    """One cell's acknowledgement of a warning (once per cell)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    warning = models.ForeignKey(SecurityWarning, on_delete=models.CASCADE, related_name="acks")
    cell = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("cell"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["warning", "cell"], name="mech_ack_once_per_cell")]

    def __str__(self) -> str:
        return f"{self.warning_id}/{self.cell_id}"


class Patrol(GridScoped):
    """A patrol (巡防) of a cell's service team: who, when, which plots, what was found."""

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("cell"))
    team = models.CharField(_("team"), max_length=100)
    # The cell's service team (平安和谐服务队) that patrolled, when named; `team` then holds its name.
    team_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service team"),
        limit_choices_to={"kind": UnitKind.SERVICE_TEAM},
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    plots: models.ManyToManyField[GridNode, Any] = models.ManyToManyField(
        GridNode, related_name="+", verbose_name=_("plots covered")
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gt=F("started_at")), name="mech_patrol_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.started_at:%Y-%m-%d}"


class PatrolFinding(models.Model):
    """Something a patrol found; it becomes a case in one step."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="findings")
    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("finding"), max_length=500)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text


# --- early warning from the data -------------------------------------------------------------------


class DraftStatus(models.TextChoices):
    DRAFT = "draft", _("to review")
    DISMISSED = "dismissed", _("dismissed")
    PUBLISHED = "published", _("published as a warning")


class EarlyWarningDraft(GridScoped):
    """An unusual rise of one kind of incident at a plot or cell against its own baseline.

    One per node, kind and week (the Monday of the week of the night it was raised).
    """

    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    sub_kind = models.CharField(_("kind"), max_length=24)
    week = models.DateField(_("week"))
    window_end = models.DateField(_("last day counted"))
    observed = models.PositiveIntegerField(_("incidents in the last 7 days"))
    baseline_weeks = models.PositiveSmallIntegerField(_("baseline weeks"))
    baseline_total = models.PositiveIntegerField(_("incidents in the baseline"))
    expected = models.FloatField(_("expected per week"))
    p_value = models.FloatField(_("p-value"))
    method = models.CharField(_("test"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=DraftStatus.choices, default="draft")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=NOTE_MAX)
    warning = models.ForeignKey(
        SecurityWarning, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("early-warning draft")
        verbose_name_plural = _("early-warning drafts")
        ordering = ["-week", "p_value", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "sub_kind", "week"], name="mech_draft_one_per_node_kind_week"
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(reason=""), name="mech_draft_dismissed_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "township", "status"], name="mech_draft_by_township")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.sub_kind} {self.week}"


# --- 专项行动 ------------------------------------------------------------------------------------


class CampaignKind(models.TextChoices):
    CAMPAIGN = "campaign", _("special campaign")
    PROGRAMME = "programme", _("programme")


class Campaign(GridScoped):
    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    kind = models.CharField(_("kind"), max_length=10, choices=CampaignKind.choices)
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    # A campaign against one kind of incident (e.g. burglary): its monthly count is watched.
    watched_sub_kind = models.CharField(_("incidents watched"), max_length=24, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("campaign or programme")
        verbose_name_plural = _("campaigns and programmes")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="mech_campaign_period")
        ]

    def __str__(self) -> str:
        return self.name


class Metric(models.TextChoices):
    PLOTS_WITH_RESPONSIBLE = "plots_responsible", _("share of plots with a responsible person")
    PLOTS_WITH_HOUSEHOLDS = "plots_households", _("share of plots with households entered")
    CASES_CLOSED = "cases_closed", _("share of cases of a kind closed")


class Phase(models.TextChoices):
    PLAN = "plan", _("plan")
    CARRY_OUT = "carry_out", _("carry out")
    REVIEW = "review", _("review")


class Milestone(models.Model):
    """A dated milestone whose progress is measured from the data, never typed in."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="milestones")
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices)
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    metric = models.CharField(_("measured by"), max_length=20, choices=Metric.choices)
    case_kind = models.CharField(_("case kind"), max_length=16, blank=True)
    case_sub_kind = models.CharField(_("case sub-kind"), max_length=24, blank=True)
    target_percent = models.PositiveSmallIntegerField(_("target (%)"), default=100)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_percent__gt=0, target_percent__lte=100), name="mech_milestone_target"
            )
        ]

    def __str__(self) -> str:
        return self.title
