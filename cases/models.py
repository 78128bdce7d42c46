"""Cases: disputes, hazards, petitions, incidents and requests, handled by tier with deadlines.

Rows only; every change goes through `cases.services` (the state machine lives there), every read
through `cases.selectors`. A case keeps the grid it was recorded in (`FOLLOWS_GRID = False`).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from grids.models import GridNode, GridScoped, Level, Tenant, copied_node, position_constraint
from teams.models import Unit, Visit

# Longest free texts accepted (forms, API and services check them; a longer text is refused, not cut).
DESCRIPTION_MAX = 5000
NOTE_MAX = 2000


class CaseKind(models.TextChoices):
    DISPUTE = "dispute", _("dispute")
    HAZARD = "hazard", _("safety hazard")
    PETITION = "petition", _("petition")
    INCIDENT = "incident", _("public-security incident")
    REQUEST = "request", _("resident request")


class SubKind(models.TextChoices):
    # disputes
    NEIGHBOUR = "neighbour", _("neighbour dispute")
    FAMILY = "family", _("family dispute")
    LAND = "land", _("land or property dispute")
    LABOUR = "labour", _("labour dispute")
    # hazards
    PRODUCTION_SAFETY = "production_safety", _("production safety")
    FIRE = "fire", _("fire")
    TRAFFIC = "traffic", _("traffic")
    PUBLIC_ORDER = "public_order", _("public order")
    # incidents
    BURGLARY = "burglary", _("burglary")
    EBIKE_THEFT = "ebike_theft", _("theft of an electric bike")
    THEFT = "theft", _("theft")
    FIGHT = "fight", _("fight")
    FRAUD = "fraud", _("fraud")
    # any kind
    MASS_INCIDENT = "mass_incident", _("mass incident")
    OTHER = "other", _("other")


KIND_SUBKINDS: dict[str, tuple[str, ...]] = {
    CaseKind.DISPUTE: (SubKind.NEIGHBOUR, SubKind.FAMILY, SubKind.LAND, SubKind.LABOUR, SubKind.OTHER),
    CaseKind.HAZARD: (
        SubKind.PRODUCTION_SAFETY,
        SubKind.FIRE,
        SubKind.TRAFFIC,
        SubKind.PUBLIC_ORDER,
        SubKind.OTHER,
    ),
    CaseKind.PETITION: (SubKind.MASS_INCIDENT, SubKind.OTHER),
    CaseKind.INCIDENT: (
        SubKind.BURGLARY,
        SubKind.EBIKE_THEFT,
        SubKind.THEFT,
        SubKind.FIGHT,
        SubKind.FRAUD,
        SubKind.MASS_INCIDENT,
        SubKind.OTHER,
    ),
    CaseKind.REQUEST: (SubKind.OTHER,),
}


class Source(models.TextChoices):
    VISIT = "visit", _("visit")
    PATROL = "patrol", _("patrol")
    HOTLINE = "hotline", _("hotline")
    WALK_IN = "walk_in", _("walk-in")
    DEPARTMENT = "department", _("department")
    WARNING = "warning", _("warning follow-up")


class Severity(models.TextChoices):
    GENERAL = "general", _("general")
    MAJOR = "major", _("major")
    CRITICAL = "critical", _("critical")


class Tier(models.TextChoices):
    """The platform handling a case; its value order matches the grid level of the tier's node."""

    CELL = "cell", _("cell")
    TOWNSHIP = "township", _("township")
    CITY = "city", _("city")


TIER_LEVEL: dict[str, int] = {Tier.CITY: Level.CITY, Tier.TOWNSHIP: Level.TOWNSHIP, Tier.CELL: Level.CELL}
TIER_ABOVE: dict[str, str] = {Tier.CELL: Tier.TOWNSHIP, Tier.TOWNSHIP: Tier.CITY}


class Status(models.TextChoices):
    REGISTERED = "registered", _("registered")
    DISPATCHED = "dispatched", _("dispatched")
    IN_HAND = "in_hand", _("in hand")
    PAUSED = "paused", _("paused (waiting on residents)")
    DISPUTED = "disputed", _("responsibility disputed")
    RESOLVED = "resolved", _("resolution submitted")
    CLOSED = "closed", _("closed")
    MERGED = "merged", _("merged into another case")


OPEN_STATUSES = (
    Status.REGISTERED,
    Status.DISPATCHED,
    Status.IN_HAND,
    Status.PAUSED,
    Status.DISPUTED,
    Status.RESOLVED,
)
# Statuses whose deadline clock runs (paused and disputed time is counted apart).
TIMED_STATUSES = (Status.REGISTERED, Status.DISPATCHED, Status.IN_HAND, Status.RESOLVED)


class Step(models.TextChoices):
    ACCEPTANCE = "acceptance", _("acceptance")
    HANDLING = "handling", _("handling")
    VERIFICATION = "verification", _("verification")


STATUS_STEP: dict[str, str] = {
    Status.REGISTERED: Step.ACCEPTANCE,
    Status.DISPATCHED: Step.ACCEPTANCE,
    Status.IN_HAND: Step.HANDLING,
    Status.PAUSED: Step.HANDLING,
    Status.RESOLVED: Step.VERIFICATION,
}


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY = "basically", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")
    UNREACHABLE = "unreachable", _("could not be reached")


class AlertLevel(models.IntegerChoices):
    """How far a deadline has gone; the scan only ever moves it up (a conditional UPDATE)."""

    NONE = 0, _("on time")
    YELLOW = 1, _("yellow: deadline near")
    RED = 2, _("red: overdue")
    YELLOW_CARD = 3, _("overdue: yellow card")
    RED_CARD = 4, _("overdue: red card")


class Reminded(models.IntegerChoices):
    """The day reminders of a deadline already sent (or passed over): only ever moves up."""

    NONE = 0, _("none yet")
    DAY_BEFORE = 1, _("one working day before")
    ON_DAY = 2, _("on the day")


class Case(GridScoped):
    FOLLOWS_GRID = False

    node = models.ForeignKey(
        GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded at")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    sub_kind = models.CharField(_("sub-kind"), max_length=24, choices=SubKind.choices, default=SubKind.OTHER)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_ref = models.CharField(
        _("source reference"), max_length=64, blank=True, help_text=_("e.g. the visit it was raised from")
    )
    visit = models.OneToOneField(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case",
        verbose_name=_("raised from visit"),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.GENERAL
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=DESCRIPTION_MAX)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    parties = models.JSONField(_("parties"), default=list, blank=True)
    # The parties' names only, for the keyword search (their phones are encrypted and never searched).
    party_names = models.TextField(_("parties' names"), blank=True, default="")

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    responsible_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("responsible unit"),
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dispatched by"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )

    # The deadline of the current step (computed on the city's working calendar).
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    yellow_at = models.DateTimeField(_("yellow warning at"), null=True, blank=True)
    red_at = models.DateTimeField(_("red warning at"), null=True, blank=True)
    deadline_seq = models.PositiveIntegerField(_("deadline number"), default=0)
    # The deadline the dispatcher typed (None: the time-limit policy's); kept when the unit accepts.
    dispatcher_due_at = models.DateTimeField(_("deadline set at dispatch"), null=True, blank=True)
    # When the responsible unit last sent the case back to the dispatcher (cleared by the next dispatch).
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(_("warning"), choices=AlertLevel.choices, default=0)
    # Lateness thresholds of the city's supervision policy, in working time after `due_at`, and the
    # next moment the deadline scan must look at this case (NULL: nothing left to raise).
    yellow_card_at = models.DateTimeField(_("yellow card at"), null=True, blank=True)
    red_card_at = models.DateTimeField(_("red card at"), null=True, blank=True)
    # The next moment the scan looks at the case lives in `DeadlineWatch` (a narrow table), so the
    # scan's writes here (`alert_level`, `reminded`: no index holds them) are heap-only updates.
    # Reminders one working day before the deadline and on its day (the scan sends each once).
    day_before_at = models.DateTimeField(_("reminder the working day before"), null=True, blank=True)
    on_day_at = models.DateTimeField(_("reminder on the day"), null=True, blank=True)
    reminded = models.PositiveSmallIntegerField(
        _("reminders sent"), choices=Reminded.choices, default=Reminded.NONE, db_default=Reminded.NONE
    )

    # Extension (granted time) and pauses (waiting on the residents) are counted apart.
    extension_minutes = models.PositiveIntegerField(_("extension granted (working minutes)"), default=0)
    extension_requested_minutes = models.PositiveIntegerField(_("extension requested"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True, max_length=NOTE_MAX)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=200, blank=True)
    paused_seconds = models.PositiveBigIntegerField(_("time paused (seconds)"), default=0)

    # A unit disputing its responsibility (推诿 made visible): the tier above decides.
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    dispute_reason = models.TextField(_("dispute reason"), blank=True, max_length=NOTE_MAX)
    dispute_seconds = models.PositiveBigIntegerField(_("time in dispute (seconds)"), default=0)

    resolution = models.TextField(_("resolution"), blank=True, max_length=NOTE_MAX)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    callback_note = models.TextField(_("call-back note"), blank=True, max_length=NOTE_MAX)

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # One per tier's list, each ordered by newest first (keyset pagination walks them).
            models.Index(
                F("tenant"), F("city"), F("created_at").desc(), F("id").desc(), name="cases_by_city"
            ),
            models.Index(
                F("tenant"), F("township"), F("created_at").desc(), F("id").desc(), name="cases_by_township"
            ),
            models.Index(
                F("tenant"), F("cell"), F("created_at").desc(), F("id").desc(), name="cases_by_cell"
            ),
            models.Index(
                F("tenant"), F("plot"), F("created_at").desc(), F("id").desc(), name="cases_by_plot"
            ),
            models.Index(
                F("responsible_unit"),
                F("created_at").desc(),
                F("id").desc(),
                name="cases_by_responsible_unit",
            ),
            models.Index(
                F("responsible_person"),
                F("created_at").desc(),
                F("id").desc(),
                name="cases_by_responsible_person",
            ),
            models.Index(F("reporter"), F("created_at").desc(), F("id").desc(), name="cases_by_reporter"),
            # The workbench's counts: open cases by grid and status, then deadline (partial: open only).
            *[
                models.Index(
                    F("tenant"),
                    F(column),
                    F("status"),
                    F("due_at"),
                    name=f"cases_open_by_{column}",
                    condition=Q(status__in=OPEN_STATUSES),
                )
                for column in ("city", "township", "cell", "plot")
            ],
            models.Index(
                F("responsible_unit"),
                F("status"),
                F("due_at"),
                name="cases_open_by_unit",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The dashboards' live month (reports.selectors): the cases closed since the month began
            # and those still open (closed_at IS NULL), without reading every case of the city.
            models.Index(fields=["tenant", "closed_at"], name="cases_by_closed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | Q(~Q(status="merged"), merged_into__isnull=True),
                name="cases_merged_iff_target",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["dispatched", "in_hand", "paused", "resolved"])
                | Q(responsible_unit__isnull=False),
                name="cases_handled_has_unit",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="cases_version_positive"),
            position_constraint("cases_case"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return case_number(self.pk, self.created_at)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def step(self) -> str:
        return STATUS_STEP.get(self.status, "")

    @property
    def step_label(self) -> str:
        return str(Step(self.step).label) if self.step else ""

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return is_overdue(self.status, self.due_at, now)


# The two below are the case's `number` and `is_overdue` for a list row read as plain values.


def case_number(pk: int | None, created_at: datetime.datetime | None) -> str:
    local = timezone.localtime(created_at) if created_at else None
    return f"{local:%Y%m%d}-{pk}" if local else f"-{pk}"


def is_overdue(status: str, due_at: datetime.datetime | None, now: datetime.datetime | None = None) -> bool:
    moment = now or timezone.now()
    return bool(due_at and status in TIMED_STATUSES and due_at < moment)


class PartStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")


class DeadlineWatch(models.Model):
    """When the deadline scan must next look at a case (its next warning, card or day reminder).

    One row per case whose deadline was ever armed; `next_check_at` is NULL when nothing is left to
    raise. Kept apart from the case so the scan's claim and advance touch two small indexes instead
    of every index of the case table (decision 1002).
    """

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="watch", verbose_name=_("case")
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"), db_index=False
    )
    next_check_at = models.DateTimeField(_("next deadline check"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline watch")
        verbose_name_plural = _("deadline watches")
        indexes = [
            # The deadline scan: cases whose next warning, card or reminder is due.
            models.Index(
                fields=["tenant", "next_check_at"],
                name="cases_watch_due",
                condition=Q(next_check_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.next_check_at}"


class CasePart(models.Model):
    """An assisting department's part (协办) of a jointly handled case, with its own deadline.

    The lead unit (主办) is the case's responsible unit; the case closes only when every part is done.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="parts", verbose_name=_("case"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="case_parts", verbose_name=_("assisting unit")
    )
    task = models.CharField(_("its part"), max_length=200)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PartStatus.choices, default=PartStatus.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_note = models.TextField(_("report"), blank=True, max_length=NOTE_MAX)
    # The part's own deadline watch, as on the case (levels of AlertLevel).
    remind_at = models.DateTimeField(_("reminder at"), null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(_("warning"), choices=AlertLevel.choices, default=0)
    yellow_card_at = models.DateTimeField(_("yellow card at"), null=True, blank=True)
    red_card_at = models.DateTimeField(_("red card at"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next deadline check"), null=True, blank=True)
    # Reminders one working day before the deadline and on its day (the scan sends each once).
    day_before_at = models.DateTimeField(_("reminder the working day before"), null=True, blank=True)
    on_day_at = models.DateTimeField(_("reminder on the day"), null=True, blank=True)
    reminded = models.PositiveSmallIntegerField(
        _("reminders sent"), choices=Reminded.choices, default=Reminded.NONE, db_default=Reminded.NONE
    )

    class Meta:
        verbose_name = _("assisting part")
        verbose_name_plural = _("assisting parts")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "unit"], name="cases_part_one_per_unit"),
        ]
        indexes = [
            models.Index(fields=["unit", "status"], name="cases_part_by_unit"),
            models.Index(
                fields=["tenant", "next_check_at"],
                name="cases_part_deadline_watch",
                condition=Q(next_check_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.task}"


EVENT_LABELS: dict[str, object] = {
    "record": _("Recorded"),
    "dispatch": _("Dispatch"),
    "accept": _("Accept"),
    "return": _("Return"),
    "dispute": _("Dispute responsibility"),
    "decide": _("Decide the dispute"),
    "transfer": _("Transfer"),
    "confirm": _("Confirm responsibility and deadline"),
    "escalate": _("Escalate"),
    "request_extension": _("Request an extension"),
    "approve_extension": _("Approve the extension"),
    "deny_extension": _("Deny the extension"),
    "pause": _("Pause"),
    "resume": _("Resume"),
    "complete_part": _("Report our part done"),
    "submit": _("Submit resolution"),
    "reject": _("Send back to handling"),
    "close": _("Verify and close"),
    "reopen": _("Reopen"),
    "merge": _("Merge into another case"),
    "merged_in": _("A duplicate was merged in"),
    "attach": _("File added"),
    "deadline_yellow": _("Yellow warning"),
    "deadline_red": _("Red warning: overdue"),
    "deadline_yellow_card": _("Overdue: yellow card"),
    "deadline_red_card": _("Overdue: red card"),
    "part_reminder": _("Assisting part: deadline near"),
    "part_overdue": _("Assisting part overdue"),
    "supervision_order": _("Supervision order issued"),
    "supervision_climb": _("Supervision order climbed a tier"),
    "supervision_reply": _("Supervision order answered"),
    "supervision_review": _("Supervision reply reviewed"),
}


class CaseEvent(models.Model):
    """One line of a case's timeline (工作痕迹). Append-only: a PostgreSQL trigger refuses UPDATE/DELETE."""

    # The case's own tenant, copied when the entry is written: not checked again at commit (1002).
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"), db_constraint=False
    )
    # Indexed by `cases_event_by_case`; the actor only where there is one (most scan entries have none).
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"), db_index=False
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        db_index=False,
    )
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX)
    due_at = models.DateTimeField(_("deadline at that moment"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="cases_event_by_case"),
            models.Index(fields=["actor"], name="cases_event_by_actor", condition=Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> object:
        return EVENT_LABELS.get(self.action, self.action)

    @property
    def deadline_move(self) -> dict[str, object] | None:
        """From what to what a binding time limit moved the typed deadline, and the limit, or None."""
        moved = (self.data or {}).get("deadline_moved")
        if not isinstance(moved, dict):
            return None
        return {
            "from": parse_datetime(str(moved.get("from", ""))),
            "to": parse_datetime(str(moved.get("to", ""))),
            "limit_minutes": moved.get("limit_minutes") or 0,
        }

    @property
    def from_label(self) -> str:
        return str(Status(self.from_status).label) if self.from_status in Status.values else ""

    @property
    def to_label(self) -> str:
        return str(Status(self.to_status).label) if self.to_status in Status.values else ""


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    now = timezone.now()
    return f"cases/{instance.tenant_id}/{now:%Y/%m}/{instance.case_id}-{filename}"


class CaseAttachment(models.Model):
    """A photo or document of a case, stored through Django's storage API, served by a scoped view."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("case")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class DeadlineAlert(models.Model):
    """A yellow or red warning raised once per deadline: the unique constraint makes a rerun a no-op."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )  # the case's
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )  # cases_alert_once
    deadline_seq = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField(choices=AlertLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("deadline warning")
        verbose_name_plural = _("deadline warnings")
        constraints = [
            models.UniqueConstraint(fields=["case", "deadline_seq", "level"], name="cases_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} #{self.deadline_seq} {self.get_level_display()}"


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "days", _("working days")
    WORKING_HOURS = "hours", _("working hours")


class TimePolicy(models.Model):
    """A time limit for one step, optionally narrowed to a kind, severity and tier (blank = any).

    The most specific matching row wins; the city edits them in the admin.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    step = models.CharField(_("step"), max_length=12, choices=Step.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True)
    limit = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(
        _("time unit"), max_length=5, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    yellow_percent = models.PositiveSmallIntegerField(_("yellow at (percent of limit)"), default=80)
    red_percent = models.PositiveSmallIntegerField(_("red at (percent of limit)"), default=100)
    binding = models.BooleanField(
        _("binding"),
        default=False,
        help_text=_(
            "On: a deadline typed by the dispatcher may not lie after this limit; when the unit accepts "
            "the case, its deadline moves back to the limit and the case's page says why."
        ),
    )

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["tenant", "step", "kind", "severity", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "step", "kind", "severity", "tier"], name="cases_policy_one_per_key"
            ),
            models.CheckConstraint(condition=Q(limit__gt=0), name="cases_policy_limit_positive"),
            models.CheckConstraint(
                condition=Q(yellow_percent__gt=0, yellow_percent__lte=F("red_percent")),
                name="cases_policy_yellow_before_red",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.kind or '*'}/{self.severity or '*'}/{self.tier or '*'}"


class CalendarDay(models.Model):
    """An exception to Monday-to-Friday: a public holiday, or a make-up working day (调休)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"), help_text=_("On for a make-up working day (调休)"))
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["tenant", "date"]
        constraints = [models.UniqueConstraint(fields=["tenant", "date"], name="cases_calendar_one_per_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class WorkingHours(models.Model):
    """A city's office hours and lunch break: every deadline counts working minutes inside them."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    start = models.TimeField(_("work starts"), default=datetime.time(8, 30))
    end = models.TimeField(_("work ends"), default=datetime.time(17, 30))
    lunch_start = models.TimeField(_("lunch break starts"), null=True, blank=True)
    lunch_end = models.TimeField(_("lunch break ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="cases_hours_end_after_start"),
            models.CheckConstraint(
                condition=Q(lunch_start__isnull=True, lunch_end__isnull=True)
                | Q(
                    lunch_start__gt=F("start"),
                    lunch_end__gt=F("lunch_start"),
                    lunch_end__lt=F("end"),
                ),
                name="cases_hours_lunch_inside_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The working day must end after it starts.")})
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValidationError({"lunch_end": _("Give both ends of the lunch break, or neither.")})
        if (
            self.lunch_start
            and self.lunch_end
            and not (self.start < self.lunch_start < self.lunch_end < self.end)
        ):
            raise ValidationError(
                {"lunch_end": _("The lunch break must lie inside the working day and end after it starts.")}
            )


class SupervisionPolicy(models.Model):
    """A city's grading of overdue cases (in working hours past the deadline) and the reply time of an order.

    Overdue at all: an ordinary order (普通督办); `yellow_after_hours` late: a yellow card (黄牌);
    `red_after_hours` late: a red card (红牌). The thresholds must increase.
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    yellow_after_hours = models.PositiveIntegerField(_("yellow card after (working hours late)"), default=8)
    red_after_hours = models.PositiveIntegerField(_("red card after (working hours late)"), default=24)
    reply_hours = models.PositiveIntegerField(
        _("an order must be answered within (working hours)"), default=8
    )

    class Meta:
        verbose_name = _("supervision policy")
        verbose_name_plural = _("supervision policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(yellow_after_hours__gt=0, red_after_hours__gt=F("yellow_after_hours")),
                name="cases_supervision_thresholds_increase",
            ),
            models.CheckConstraint(condition=Q(reply_hours__gt=0), name="cases_supervision_reply_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.yellow_after_hours}/{self.red_after_hours}/{self.reply_hours}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not 0 < (self.yellow_after_hours or 0) < (self.red_after_hours or 0):
            raise ValidationError(
                {"red_after_hours": _("The thresholds must increase: 0 < yellow card < red card.")}
            )
        if not self.reply_hours:
            raise ValidationError({"reply_hours": _("An order needs at least one working hour to answer.")})


class Grade(models.IntegerChoices):
    ORDINARY = 1, _("ordinary supervision")
    YELLOW = 2, _("yellow card")
    RED = 3, _("red card")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("awaiting reply")
    REPLIED = "replied", _("reply awaiting review")
    CLOSED = "closed", _("reply accepted")
    CLIMBED = "climbed", _("unanswered: climbed a tier")
    SUPERSEDED = "superseded", _("superseded by a higher grade")
    WITHDRAWN = "withdrawn", _("case finished")


class SupervisionOrder(GridScoped):
    """A supervision order (督办单) from a tier to the unit responsible for an overdue case or part,
    or for other late work a higher app follows up (a monthly review not signed off, a meeting
    decision overdue): then `case` is empty and the order names its subject (kind, id, label, link),
    written by that app through `cases.supervision.order_raise_on_subject`. Exactly one of the two.

    The scan writes system orders with INSERT ... ON CONFLICT DO NOTHING on `key`
    (case/part, deadline, grade, or the order it climbed from; subject, tier, grade), so each is
    written once. Carries the ancestor columns of its case or subject: scoped like them.
    """

    # The scan writes these rows in bulk: each index here is one more entry per order, so a column
    # already leading a composite index below has none of its own, and a column mostly empty
    # (who replied, reviewed, issued by hand; the part; the order climbed from) is indexed only
    # where it is set.
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tenant"),
        db_index=False,
        db_constraint=False,
    )
    # Copies of the case's (or subject's) grid columns, written in the same statement as the order
    # from rows the database has checked: no constraint of their own to check again at commit (the
    # ORM still refuses to delete a node they name: PROTECT). Decision 1002.
    city = copied_node(_("city"), null=False)
    township = copied_node(_("township"))
    cell = copied_node(_("cell"))
    plot = copied_node(_("plot"))
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("case"),
        db_index=False,
    )
    # The subject of an order not about a case; db defaults keep the scan's raw INSERTs unchanged.
    subject_kind = models.CharField(_("subject kind"), max_length=40, blank=True, default="", db_default="")
    subject_id = models.PositiveBigIntegerField(_("subject id"), null=True, blank=True)
    subject_label = models.CharField(_("subject"), max_length=200, blank=True, default="", db_default="")
    subject_url = models.CharField(_("subject link"), max_length=200, blank=True, default="", db_default="")
    part = models.ForeignKey(
        CasePart,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("assisting part"),
        db_index=False,
    )
    deadline_seq = models.PositiveIntegerField(_("deadline number"), default=0)
    tier = models.CharField(_("issued by tier"), max_length=10, choices=Tier.choices)
    grade = models.PositiveSmallIntegerField(_("grade"), choices=Grade.choices)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("unit"),
        db_index=False,
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    key = models.CharField(_("key"), max_length=80)
    manual = models.BooleanField(_("issued by hand"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("climbed from"),
        db_index=False,
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    reply_due_at = models.DateTimeField(_("reply due at"))
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="cases_order_once_per_key"),
            models.CheckConstraint(
                condition=(Q(case__isnull=False, subject_kind="", subject_id__isnull=True))
                | (Q(case__isnull=True, subject_id__isnull=False) & ~Q(subject_kind="")),
                name="cases_order_case_or_subject",
            ),
        ]
        indexes = [
            models.Index(
                F("tenant"), F("city"), F("created_at").desc(), F("id").desc(), name="cases_order_by_city"
            ),
            models.Index(
                F("tenant"),
                F("township"),
                F("created_at").desc(),
                F("id").desc(),
                name="cases_order_by_township",
            ),
            models.Index(F("unit"), F("created_at").desc(), name="cases_order_by_unit"),
            models.Index(F("person"), F("created_at").desc(), name="cases_order_by_person"),
            models.Index(F("case"), F("created_at"), name="cases_order_by_case"),
            models.Index(
                fields=["subject_kind", "subject_id"],
                name="cases_order_by_subject",
                condition=Q(case__isnull=True),
            ),
            # The climb scan: open orders whose reply is late.
            models.Index(
                fields=["tenant", "reply_due_at"], name="cases_order_reply_watch", condition=Q(status="open")
            ),
            *[
                models.Index(
                    fields=[column],
                    name=f"cases_order_by_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                )
                for column in ("part", "parent", "issued_by", "replied_by", "reviewed_by")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.get_grade_display()} #{self.pk}"

    @property
    def about_title(self) -> str:
        """What the order is about: its case's title, or its subject's label."""
        return self.case.title if self.case_id and self.case else self.subject_label
