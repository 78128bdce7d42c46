"""Assessment (考核): schemes of weighted indicators and veto items, rounds that compute a scorecard per
township, appeals of vetoes. Rows only; every change goes through `reports.services`.

A round is computed idempotently (one scorecard per round and unit, one line per scorecard and
indicator, one veto hit per scorecard and rule: unique constraints) and frozen when published: the
services refuse every change to a published round, and the round keeps a snapshot of what the
committee saw.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import GridNode, Tenant


class Source(models.TextChoices):
    """Where an indicator's value comes from."""

    ON_TIME_RATE = "on_time_rate", _("cases closed on time (%)")
    VISIT_COVERAGE = "visit_coverage", _("households visited (%)")
    OVERDUE_PER_1000 = "overdue_per_1000", _("cases gone overdue per 1,000 households")
    CARDS_PER_1000 = "cards_per_1000", _("supervision cards per 1,000 households")
    INCIDENT_CHANGE = "incident_change", _("change in incidents on the year before (%)")
    SATISFACTION = "satisfaction", _("satisfaction at close-out (%)")
    SURVEY_INDEX = "survey_index", _("residents' sense of safety and satisfaction index (survey, 0-100)")
    MANUAL = "manual", _("scored by hand")
    # A member department's scorecard (述职 and cases where the department is the responsible unit).
    UNIT_ON_TIME_RATE = "unit_on_time_rate", _("department: cases closed on time (%)")
    UNIT_OVERDUE = "unit_overdue", _("department: cases gone overdue (% of cases handled)")
    UNIT_CARDS = "unit_cards", _("department: supervision cards per 100 cases handled")
    WORK_REPORT = "work_report", _("department: yearly work report score")


# The sources of a member department's indicators (the others are a township's).
DEPARTMENT_SOURCES = frozenset(
    {Source.UNIT_ON_TIME_RATE, Source.UNIT_OVERDUE, Source.UNIT_CARDS, Source.WORK_REPORT}
)


class VetoKind(models.TextChoices):
    """A veto item (一票否决) is a rule over the data; the hits name their evidence."""

    MAJOR_INCIDENT = "major_incident", _("critical incidents")
    MASS_INCIDENT = "mass_incident", _("mass incidents or mass petitions")
    RED_CARDS = "red_cards", _("red supervision cards")


class Scheme(models.Model):
    """The city's assessment scheme for a period: indicators with weights adding to 100, veto items."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    name = models.CharField(_("name"), max_length=100)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends (inclusive)"))
    min_cases = models.PositiveSmallIntegerField(
        _("fewest cases to judge a rate"),
        default=5,
        help_text=_(
            "A unit with fewer cases behind an indicator is shown as 'insufficient data', not ranked."
        ),
    )
    min_households = models.PositiveIntegerField(
        _("fewest households to judge a rate per 1,000"), default=100
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="reports_scheme_name_unique"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="reports_scheme_period_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("computed from"), max_length=20, choices=Source.choices)
    weight = models.PositiveSmallIntegerField(_("weight"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gt=0, weight__lte=100), name="reports_indicator_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class VetoItem(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="vetoes")
    name = models.CharField(_("name"), max_length=100)
    rule = models.CharField(_("rule"), max_length=20, choices=VetoKind.choices)
    threshold = models.PositiveSmallIntegerField(_("vetoes at this many or more"), default=1)

    class Meta:
        verbose_name = _("veto item")
        verbose_name_plural = _("veto items")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(threshold__gt=0), name="reports_veto_threshold")]

    def __str__(self) -> str:
        return self.name


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMPUTED = "computed", _("computed, under review")
    PUBLISHED = "published", _("published (frozen)")


class Round(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="rounds")
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT
    )
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    snapshot = models.JSONField(_("what was published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("assessment round")
        verbose_name_plural = _("assessment rounds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="reports_round_name_unique"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False, snapshot__isnull=False),
                name="reports_round_published_has_snapshot",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_published(self) -> bool:
        return self.status == RoundStatus.PUBLISHED


class Scorecard(models.Model):
    """One township's result in a round, or one member department's (exactly one of the two is set)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="scorecards")
    unit = models.ForeignKey(
        GridNode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("township"),
    )
    department = models.ForeignKey(
        "teams.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member department"),
    )
    households = models.PositiveIntegerField(_("households"), default=0)
    total = models.DecimalField(_("total score"), max_digits=6, decimal_places=2, default=0)
    insufficient = models.BooleanField(_("insufficient data"), default=False)
    vetoed = models.BooleanField(_("vetoed"), default=False)
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["rank", "unit__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="reports_scorecard_once"),
            models.UniqueConstraint(fields=["round", "department"], name="reports_scorecard_department_once"),
            models.CheckConstraint(
                condition=Q(unit__isnull=False, department__isnull=True)
                | Q(unit__isnull=True, department__isnull=False),
                name="reports_scorecard_township_or_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.unit_id}"


class Line(models.Model):
    """One indicator of a scorecard: the value, the count it rests on, the points, and its rows."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="lines")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    value = models.FloatField(_("value"), null=True, blank=True)
    basis = models.PositiveIntegerField(_("count it rests on"), default=0)
    points = models.FloatField(_("points (0-100)"), default=0)
    weighted = models.DecimalField(_("weighted points"), max_digits=6, decimal_places=2, default=0)
    insufficient = models.BooleanField(_("insufficient data"), default=False)
    note = models.TextField(_("reason (scored by hand)"), blank=True)
    evidence = models.JSONField(_("the rows behind it"), default=dict, blank=True)

    class Meta:
        verbose_name = _("scorecard line")
        verbose_name_plural = _("scorecard lines")
        ordering = ["indicator__order", "indicator_id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "indicator"], name="reports_line_once")]

    def __str__(self) -> str:
        return f"{self.scorecard_id}/{self.indicator_id}"


class ManualScore(models.Model):
    """A hand score (0-100) of a `manual` indicator for a unit in a round, with its written reason."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="manual_scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("points (0-100)"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("reason"), max_length=2000)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scored_at = models.DateTimeField(_("scored at"), default=timezone.now)

    class Meta:
        verbose_name = _("hand score")
        verbose_name_plural = _("hand scores")
        constraints = [
            models.UniqueConstraint(fields=["round", "indicator", "unit"], name="reports_manual_once"),
            models.CheckConstraint(condition=Q(points__gte=0, points__lte=100), name="reports_manual_range"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.indicator_id}/{self.unit_id}: {self.points}"


class VetoStatus(models.TextChoices):
    STANDING = "standing", _("standing")
    APPEALED = "appealed", _("appealed, awaiting decision")
    UPHELD = "upheld", _("appeal refused: veto upheld")
    OVERTURNED = "overturned", _("appeal granted: veto lifted")


class VetoHit(models.Model):
    """A veto item a unit fell under, naming its evidence; appealed and decided before publication."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="vetoes")
    item = models.ForeignKey(VetoItem, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField(_("count"))
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=VetoStatus.choices, default=VetoStatus.STANDING
    )
    appeal_reason = models.TextField(_("appeal"), blank=True, max_length=2000)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appealed_at = models.DateTimeField(_("appealed at"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("veto")
        verbose_name_plural = _("vetoes")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "item"], name="reports_veto_once")]

    def __str__(self) -> str:
        return f"{self.scorecard_id}/{self.item_id}"

    @property
    def counts(self) -> bool:
        return self.status != VetoStatus.OVERTURNED


# The residents' satisfaction survey (issue 13), in its own module.
from .survey_models import Survey, SurveyLink, SurveyQuestion, SurveyResponse  # noqa: E402, F401

# --- yearly work reports of the committee's member units (述职) ------------------------------------


class WorkReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted, awaiting review")
    REVIEWED = "reviewed", _("reviewed, awaiting score")
    SCORED = "scored", _("scored")


WORK_REPORT_TEXT_MAX = 20000


def work_report_path(instance: WorkReport, filename: str) -> str:
    return f"work_reports/{instance.tenant_id}/{instance.year}/{instance.unit_id}-{filename[-80:]}"


class WorkReport(models.Model):
    """A member unit's yearly work report: submitted by the unit, reviewed and scored (0-100) by the
    city; the score feeds the unit's department scorecard (indicator source `work_report`). One per
    unit and year (a unique constraint: a second submission is refused, never a second row)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    unit = models.ForeignKey(
        "teams.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("member unit")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    text = models.TextField(_("report"), blank=True, max_length=WORK_REPORT_TEXT_MAX)
    attachment = models.FileField(_("attachment"), upload_to=work_report_path, max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=WorkReportStatus.choices, default=WorkReportStatus.SUBMITTED
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True, max_length=2000)
    score = models.DecimalField(_("score (0-100)"), max_digits=5, decimal_places=2, null=True, blank=True)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("work report")
        verbose_name_plural = _("work reports")
        ordering = ["-year", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="reports_work_report_once"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="reports_work_report_score_range",
            ),
            models.CheckConstraint(
                condition=Q(status="scored", score__isnull=False)
                | (~Q(status="scored") & Q(score__isnull=True)),
                name="reports_work_report_scored_has_score",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="reports_work_report_year_range"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "year"], name="reports_work_report_by_year")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.year}"


# --- the dashboards' monthly summary (reports.summary writes it; nothing else does) -----------------


class MonthlyFigure(models.Model):
    """The dashboard figures of one grid node (every level) for one past month, from its cases, cards
    and visits: what `reports.summary.refresh` computed, set-based and idempotently, so a dashboard
    reads its trends from a few rows instead of aggregating months of cases. The tenant root's row
    exists for every month a refresh covered (zeros included): it marks the month as summarised."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(GridNode, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"))
    month = models.DateField(_("month"))  # the month's first day
    # cases recorded in the month (not merged), by kind
    incidents = models.PositiveIntegerField(db_default=0)
    hazards = models.PositiveIntegerField(db_default=0)
    petitions = models.PositiveIntegerField(db_default=0)
    # cases closed in the month: how many, how many never went red, the residents' answers
    closed = models.PositiveIntegerField(db_default=0)
    closed_on_time = models.PositiveIntegerField(db_default=0)
    satisfied = models.PositiveIntegerField(db_default=0)
    rated = models.PositiveIntegerField(db_default=0)
    # cases open at the month's end; cases that went red (a red warning raised) in the month
    open = models.PositiveIntegerField(db_default=0)
    overdue = models.PositiveIntegerField(db_default=0)
    # supervision cards issued in the month; households visited in it
    yellow_cards = models.PositiveIntegerField(db_default=0)
    red_cards = models.PositiveIntegerField(db_default=0)
    visited = models.PositiveIntegerField(db_default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), default=timezone.now)

    class Meta:
        verbose_name = _("monthly figures")
        verbose_name_plural = _("monthly figures")
        constraints = [models.UniqueConstraint(fields=["node", "month"], name="reports_figure_once")]
        indexes = [models.Index(fields=["tenant", "level", "month"], name="reports_figure_by_level")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.month:%Y-%m}"
