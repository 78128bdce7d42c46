"""Every change the mechanisms make: one function per use case, keyword-only, actor first, one
transaction each. Retries are harmless: a unique constraint, not a check-then-write, stops a duplicate
(one review per node and month, one draft per node, kind and week, one acknowledgement per cell).

Rights: the grid rights of `grids.scoping` at the node concerned. `manage_cases` runs reviews,
meetings, warnings, drafts, analyses and campaigns (the dispatching platforms); `record_case` posts
shared information, logs patrols and acknowledges warnings for a cell (the cell's service team).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import services as case_services
from cases.models import Case, CaseKind, Source, Status, SubKind
from grids import scoping
from grids.models import GridNode, Level, Tenant
from teams.models import Membership, Unit, UnitKind

from . import notify, selectors
from .models import (
    NOTE_MAX,
    TEXT_MAX,
    Campaign,
    CampaignKind,
    Decision,
    DecisionStatus,
    DisputeReview,
    DraftStatus,
    EarlyWarningDraft,
    InfoPost,
    InfoRead,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
    Metric,
    Milestone,
    Operation,
    Patrol,
    PatrolFinding,
    Phase,
    ReviewItem,
    ReviewStatus,
    SecurityAnalysis,
    SecurityWarning,
    WarningAck,
    WarningLevel,
    WarningStatus,
)

if TYPE_CHECKING:
    from teams.models import User

MANAGE = "manage_cases"
RECORD = "record_case"
# A review is signed off by the 10th of the month after the month reviewed.
SIGN_OFF_DAYS = 9
# Reminded when late; sent for supervision this long after the reminder.
SUPERVISE_AFTER = dt.timedelta(days=3)
# Cells that have not acknowledged a warning are chased this long after it was published.
ACK_CHASE_AFTER = dt.timedelta(hours=24)
# Decisions: a reminder this long before the deadline.
DECISION_REMIND_BEFORE = dt.timedelta(days=1)


# --- helpers --------------------------------------------------------------------------------------


def _need(actor: User, perm: str, node: GridNode) -> None:
    if not scoping.can_now(actor, perm, node):
        raise PermissionDenied(_("You have no rights at %(node)s for this.") % {"node": node.name})


def _text(value: str | None, field: str, *, limit: int = NOTE_MAX, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > limit:
        raise ValidationError(
            {
                field: [
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": limit, "count": len(text)}
                ]
            }
        )
    return text


def _aware(value: dt.datetime | None, field: str) -> dt.datetime:
    if value is None:
        raise ValidationError({field: [_("Give a date and time.")]})
    if timezone.is_naive(value):
        raise ValidationError({field: [_("Give the time with its time zone.")]})
    return value


def tenant_zone(tenant_id: int) -> ZoneInfo:
    name = Tenant.objects.filter(pk=tenant_id).values_list("time_zone", flat=True).first()
    return ZoneInfo(name or "Asia/Shanghai")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


# --- 矛盾联调: the monthly dispute review ------------------------------------------------------


def _review_rows(
    tenant_id: int, month: dt.date, nodes: Sequence[tuple[int, int, int | None]], now: dt.datetime
) -> list[DisputeReview]:
    zone = tenant_zone(tenant_id)
    due = local_midnight(next_month(month), zone) + dt.timedelta(days=SIGN_OFF_DAYS + 1)
    rows = []
    for pk, level, parent_id in nodes:
        if level == Level.CITY:
            columns = {"city_id": pk, "township_id": None}
        else:
            columns = {"city_id": parent_id, "township_id": pk}
        rows.append(
            DisputeReview(tenant_id=tenant_id, node_id=pk, month=month, opened_at=now, due_at=due, **columns)
        )
    return rows


def _check_month_ended(tenant_id: int, month: dt.date, now: dt.datetime) -> dt.date:
    month = month_start(month)
    if local_midnight(next_month(month), tenant_zone(tenant_id)) > now:
        raise ValidationError(
            {
                "month": [
                    _("%(month)s has not ended yet: a month is reviewed after it ends.")
                    % {"month": f"{month:%Y-%m}"}
                ]
            }
        )
    return month


def reviews_open_month(*, tenant_id: int, month: dt.date, now: dt.datetime | None = None) -> int:
    """Open the month's review for the city and every township of one city, in two statements.

    The unique (node, month) constraint makes a second or concurrent run write nothing. Returns the
    number of reviews that exist for the month afterwards.
    """
    now = now or timezone.now()
    month = _check_month_ended(tenant_id, month, now)
    nodes = list(
        GridNode.objects.filter(tenant_id=tenant_id, level__lte=Level.TOWNSHIP).values_list(
            "pk", "level", "parent_id"
        )
    )
    DisputeReview.objects.bulk_create(_review_rows(tenant_id, month, nodes, now), ignore_conflicts=True)
    return len(nodes)


def review_open(
    *, actor: User, node: GridNode, month: dt.date, now: dt.datetime | None = None
) -> DisputeReview:
    """Open one node's review by hand (a month the nightly job missed, or a past month)."""
    now = now or timezone.now()
    if node.level not in (Level.CITY, Level.TOWNSHIP):
        raise ValidationError({"node": [_("Reviews are held by the city and the townships.")]})
    _need(actor, MANAGE, node)
    month = _check_month_ended(node.tenant_id, month, now)
    with transaction.atomic():
        rows = _review_rows(node.tenant_id, month, [(node.pk, node.level, node.parent_id)], now)
        DisputeReview.objects.bulk_create(rows, ignore_conflicts=True)
        return DisputeReview.objects.get(node=node, month=month)


def _open_review_for_update(actor: User, review: DisputeReview) -> DisputeReview:
    _need(actor, MANAGE, review.node)
    fresh = DisputeReview.objects.select_for_update().select_related("node").get(pk=review.pk)
    if fresh.status != ReviewStatus.OPEN:
        raise ValidationError(_("This review has been signed off and can no longer change."))
    return fresh


def review_save_analysis(*, actor: User, review: DisputeReview, analysis: str) -> DisputeReview:
    text = _text(analysis, "analysis", limit=TEXT_MAX)
    with transaction.atomic():
        fresh = _open_review_for_update(actor, review)
        fresh.analysis = text
        fresh.version = F("version") + 1
        fresh.save(update_fields=["analysis", "version"])
    fresh.refresh_from_db()
    return fresh


def review_confirm(
    *,
    actor: User,
    review: DisputeReview,
    case: Case,
    unit: Unit | None,
    person: User | None,
    due_at: dt.datetime | None,
    note: str = "",
) -> ReviewItem:
    """Confirm one open dispute's responsible unit, person and deadline (分级负责、限期解决).

    The case changes only through the cases workflow: a registered dispute is dispatched, a disputed
    one decided, a handled one transferred (another unit) and/or confirmed (person and deadline).
    Each writes the case's own timeline; the review keeps what was confirmed.
    """
    if unit is None:
        raise ValidationError({"unit": [_("Choose the responsible unit.")]})
    due = _aware(due_at, "due_at")
    text = _text(note, "note", limit=500)
    reason = text or _("Confirmed at the monthly dispute review %(month)s.") % {
        "month": f"{review.month:%Y-%m}"
    }
    with transaction.atomic():
        fresh = _open_review_for_update(actor, review)
        in_review = selectors.review_disputes(fresh).filter(pk=case.pk)
        current = in_review.select_for_update(of=("self",)).first()
        if current is None:
            raise ValidationError({"case": [_("This is not an open dispute of the month under review.")]})
        try:
            _confirm_through_workflow(actor, current, unit, person, due, reason)
        except case_services.CaseConflict as exc:
            raise ValidationError({"case": [exc.message]}) from exc
        item, _created = ReviewItem.objects.update_or_create(
            review=fresh,
            case=current,
            defaults={
                "tenant_id": fresh.tenant_id,
                "unit": unit,
                "person": person,
                "due_at": due,
                "note": text,
                "confirmed_by": actor,
                "confirmed_at": timezone.now(),
            },
        )
    return item


def _confirm_through_workflow(
    actor: User, case: Case, unit: Unit, person: User | None, due: dt.datetime, reason: str
) -> None:
    status = case.status
    if status == Status.REGISTERED:
        case_services.case_dispatch(
            actor=actor, case=case, responsible_unit=unit, responsible_person=person, due_at=due, note=reason
        )
        return
    if status == Status.DISPUTED:
        case_services.case_decide(
            actor=actor, case=case, responsible_unit=unit, responsible_person=person, reason=reason
        )
        case_services.case_confirm(actor=actor, case=case, responsible_person=person, due_at=due, note=reason)
        return
    if status in (Status.DISPATCHED, Status.IN_HAND):
        if case.responsible_unit_id != unit.pk:
            case_services.case_transfer(
                actor=actor, case=case, responsible_unit=unit, responsible_person=person, reason=reason
            )
        if case.responsible_person_id != (person.pk if person else None) or case.due_at != due:
            case_services.case_confirm(
                actor=actor, case=case, responsible_person=person, due_at=due, note=reason
            )
        return
    # Paused (waiting on the residents) or resolved (awaiting verification): only what stands is confirmed.
    if case.responsible_unit_id != unit.pk or case.responsible_person_id != (person.pk if person else None):
        raise ValidationError(
            {
                "case": [
                    _("The case is %(status)s: its unit and person can only be confirmed as they are.")
                    % {"status": case.get_status_display()}
                ]
            }
        )


def review_sign(*, actor: User, review: DisputeReview, now: dt.datetime | None = None) -> DisputeReview:
    """Sign the review off: what it shows is frozen as a snapshot and stays readable as signed."""
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _open_review_for_update(actor, review)
        if not fresh.analysis.strip():
            raise ValidationError({"analysis": [_("Write the analysis before signing off.")]})
        disputes = selectors.review_dispute_rows(fresh)
        missing = [d for d in disputes if d["item"] is None]
        if missing:
            raise ValidationError(
                _("%(count)d open disputes still need their responsible unit, person and deadline confirmed.")
                % {"count": len(missing)}
            )
        snapshot = {
            "figures": selectors.review_figures(fresh, now=now),
            "disputes": [selectors.dispute_row_json(d) for d in disputes],
            "analysis": fresh.analysis,
            "signed_by": str(actor),
            "signed_at": now.isoformat(),
        }
        rows = DisputeReview.objects.filter(pk=fresh.pk, status=ReviewStatus.OPEN).update(
            status=ReviewStatus.SIGNED,
            signed_by=actor,
            signed_at=now,
            snapshot=snapshot,
            version=F("version") + 1,
        )
        if rows != 1:
            raise ValidationError(_("This review has been signed off and can no longer change."))
        notify.supervision_withdraw(
            tenant_id=fresh.tenant_id, kind=notify.REVIEW_SUBJECT, subject_id=fresh.pk
        )
    fresh.refresh_from_db()
    return fresh


def reviews_chase(*, tenant_id: int, now: dt.datetime | None = None) -> tuple[int, int]:
    """Late reviews of one city: remind once; still unsigned `SUPERVISE_AFTER` later, supervise once.

    Each step is a conditional UPDATE of its own column, so a rerun (or a second worker) does nothing.
    Returns (reminded, supervised).
    """
    now = now or timezone.now()
    reminded = supervised = 0
    late = DisputeReview.objects.filter(tenant_id=tenant_id, status=ReviewStatus.OPEN, due_at__lt=now)
    for review in late.filter(chased_at__isnull=True).order_by("pk"):
        with transaction.atomic():
            if DisputeReview.objects.filter(pk=review.pk, status="open", chased_at__isnull=True).update(
                chased_at=now
            ):
                notify.review_late(review)
                reminded += 1
    cutoff = now - SUPERVISE_AFTER
    for review in late.filter(chased_at__lte=cutoff, supervised_at__isnull=True).order_by("pk"):
        with transaction.atomic():
            if DisputeReview.objects.filter(pk=review.pk, status="open", supervised_at__isnull=True).update(
                supervised_at=now
            ):
                notify.review_supervise(review)
                supervised += 1
    return reminded, supervised


# --- 治安联防: warnings -------------------------------------------------------------------------


def warning_publish(
    *,
    actor: User,
    node: GridNode | None,
    level: str,
    title: str,
    measures: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    draft: EarlyWarningDraft | None = None,
    now: dt.datetime | None = None,
) -> SecurityWarning:
    """Publish a warning to a subtree; every cell under it is asked to acknowledge it."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if node is None:
        errors["node"] = [_("Choose the grid the warning is for.")]
    elif node.level > Level.CELL:
        errors["node"] = [_("A warning goes to the city, a township or a cell.")]
    if level not in WarningLevel.values:
        errors["level"] = [_("Choose the warning level.")]
    if not (title or "").strip():
        errors["title"] = [_("Give the warning a title.")]
    if not (measures or "").strip():
        errors["measures"] = [_("Say which measures to take.")]
    if starts_at is None or ends_at is None:
        errors["ends_at"] = [_("Say from when and until when the warning holds.")]
    elif ends_at <= starts_at:
        errors["ends_at"] = [_("The end must come after the start.")]
    elif ends_at <= now:
        errors["ends_at"] = [_("The end has already passed.")]
    if errors:
        raise ValidationError(errors)
    assert node is not None and starts_at is not None and ends_at is not None
    _aware(starts_at, "starts_at")
    _aware(ends_at, "ends_at")
    _need(actor, MANAGE, node)
    title_text = _text(title, "title", limit=200, required=True)
    measures_text = _text(measures, "measures", limit=TEXT_MAX, required=True)
    with transaction.atomic():
        cell_ids = list(selectors.cells_under(node).values_list("pk", flat=True))
        warning = SecurityWarning.objects.create(
            **scoping.ancestor_columns(node),
            node=node,
            level=level,
            title=title_text,
            measures=measures_text,
            starts_at=starts_at,
            ends_at=ends_at,
            published_by=actor,
            published_at=now,
            cells_expected=len(cell_ids),
        )
        if draft is not None:
            rows = EarlyWarningDraft.objects.filter(pk=draft.pk, status=DraftStatus.DRAFT).update(
                status=DraftStatus.PUBLISHED, warning=warning, decided_by=actor, decided_at=now
            )
            if rows != 1:
                raise ValidationError(_("This draft has already been decided."))
        notify.warning_published(warning, cell_ids)
    return warning


def warning_acknowledge(
    *,
    actor: User,
    warning: SecurityWarning,
    cell: GridNode | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> WarningAck:
    """A cell acknowledges a warning (once; a second acknowledgement returns the first)."""
    now = now or timezone.now()
    if cell is None:
        raise ValidationError({"cell": [_("Choose the cell that acknowledges.")]})
    if not selectors.cells_under(warning.node).filter(pk=cell.pk).exists():
        raise ValidationError(
            {"cell": [_("%(cell)s is not under this warning's grid.") % {"cell": cell.name}]}
        )
    if not scoping.can_now(actor, RECORD, cell):
        raise ValidationError({"cell": [_("You may not acknowledge for %(cell)s.") % {"cell": cell.name}]})
    if warning.status != WarningStatus.IN_FORCE:
        raise ValidationError(_("This warning has expired."))
    text = _text(note, "note", limit=500)
    with transaction.atomic():
        WarningAck.objects.bulk_create(
            [
                WarningAck(
                    tenant_id=warning.tenant_id, warning=warning, cell=cell, by=actor, at=now, note=text
                )
            ],
            ignore_conflicts=True,
        )
        return WarningAck.objects.get(warning=warning, cell=cell)


def warnings_sweep(*, tenant_id: int, now: dt.datetime | None = None) -> tuple[int, int]:
    """Expire the warnings past their end; chase once the cells that have not acknowledged.
    Returns (expired, chased)."""
    now = now or timezone.now()
    expired = SecurityWarning.objects.filter(
        tenant_id=tenant_id, status=WarningStatus.IN_FORCE, ends_at__lte=now
    ).update(status=WarningStatus.EXPIRED)
    chased = 0
    due = SecurityWarning.objects.filter(
        tenant_id=tenant_id,
        status=WarningStatus.IN_FORCE,
        chased_at__isnull=True,
        published_at__lte=now - ACK_CHASE_AFTER,
    ).select_related("node")
    for warning in due.order_by("pk"):
        with transaction.atomic():
            if SecurityWarning.objects.filter(pk=warning.pk, chased_at__isnull=True).update(chased_at=now):
                missing = list(
                    selectors.warning_cells(warning).filter(acked=False).values_list("pk", flat=True)
                )
                if missing:
                    notify.warning_unacknowledged(warning, missing)
                chased += 1
    return expired, chased


# --- early warning from the data ----------------------------------------------------------------

BASELINE_WEEKS = 8
# A rise is flagged when P(X >= observed | Poisson(expected)) < ALPHA and at least MIN_OBSERVED
# incidents happened. EXPECTED_FLOOR keeps a plot whose baseline is (nearly) empty from being flagged
# for two or three incidents: with expected 0.5 a week, 5 incidents are needed (p = 0.00017).
ALPHA = 0.001
MIN_OBSERVED = 3
EXPECTED_FLOOR = 0.5
METHOD = "poisson-upper-tail-8w"


def poisson_upper_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summed from k upwards in logs (exact enough in the far tail)."""
    if k <= 0:
        return 1.0
    total, i = 0.0, k
    while True:
        term = math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1))
        total += term
        if i > lam and term < total * 1e-16:
            return min(total, 1.0)
        i += 1


@dataclass(frozen=True)
class Finding:
    level: int
    columns: dict[str, int | None]
    node_id: int
    city_id: int
    sub_kind: str
    observed: int
    baseline_total: int
    expected: float
    p_value: float


def early_warning_test(
    observed: int, baseline_total: int, weeks: int = BASELINE_WEEKS
) -> tuple[float, float] | None:
    """(expected, p) when `observed` incidents in the last 7 days are an unusual rise, else None."""
    expected = max(baseline_total / weeks, EXPECTED_FLOOR)
    if observed < MIN_OBSERVED or observed <= expected:
        return None
    p = poisson_upper_tail(observed, expected)
    return (expected, p) if p < ALPHA else None


def early_warning_findings(*, tenant_id: int, day: dt.date) -> list[Finding]:
    """The unusual rises up to `day` (inclusive), per plot and per cell and kind of incident.

    One aggregate statement per level reads the 9 weeks of incidents (the last 7 days and the
    8 weeks before) grouped by node and kind; only groups with MIN_OBSERVED incidents in the last
    7 days come back, and the exact Poisson tail is computed for those few.
    """
    zone = tenant_zone(tenant_id)
    end = local_midnight(day + dt.timedelta(days=1), zone)
    start = end - dt.timedelta(days=7)
    base_start = start - dt.timedelta(weeks=BASELINE_WEEKS)
    root_id = (
        GridNode.objects.filter(tenant_id=tenant_id, level=Level.CITY).values_list("pk", flat=True).first()
    )
    if root_id is None:
        return []
    found: list[Finding] = []
    incidents = Case.objects.filter(
        tenant_id=tenant_id,
        city_id=root_id,
        kind=CaseKind.INCIDENT,
        created_at__gte=base_start,
        created_at__lt=end,
    ).exclude(status=Status.MERGED)
    for level, keys in (
        (Level.PLOT, ("city_id", "township_id", "cell_id", "plot_id")),
        (Level.CELL, ("city_id", "township_id", "cell_id")),
    ):
        column = keys[-1]
        groups = (
            incidents.filter(**{f"{column}__isnull": False})
            .values(*keys, "sub_kind")
            .annotate(
                observed=Count("pk", filter=Q(created_at__gte=start)),
                baseline=Count("pk", filter=Q(created_at__lt=start)),
            )
            .filter(observed__gte=MIN_OBSERVED)
            .order_by()
        )
        for g in groups:
            result = early_warning_test(g["observed"], g["baseline"])
            if result is None:
                continue
            columns = {k: g[k] for k in keys}
            found.append(
                Finding(
                    level,
                    columns,
                    g[column],
                    g["city_id"],
                    g["sub_kind"],
                    g["observed"],
                    g["baseline"],
                    *result,
                )
            )
    return found


def early_warning_scan(*, tenant_id: int, day: dt.date, now: dt.datetime | None = None) -> int:
    """The nightly job for one city: a draft for each unusual rise (one per node, kind and week).

    Returns how many drafts this run wrote; a second or concurrent run for the same week writes none.
    """
    now = now or timezone.now()
    week = day - dt.timedelta(days=day.weekday())
    rows = [
        EarlyWarningDraft(
            tenant_id=tenant_id,
            city_id=f.city_id,
            township_id=f.columns.get("township_id"),
            cell_id=f.columns.get("cell_id"),
            plot_id=f.columns.get("plot_id"),
            node_id=f.node_id,
            sub_kind=f.sub_kind,
            week=week,
            window_end=day,
            observed=f.observed,
            baseline_weeks=BASELINE_WEEKS,
            baseline_total=f.baseline_total,
            expected=f.expected,
            p_value=f.p_value,
            method=METHOD,
            created_at=now,
        )
        for f in early_warning_findings(tenant_id=tenant_id, day=day)
    ]
    with transaction.atomic():
        EarlyWarningDraft.objects.bulk_create(rows, ignore_conflicts=True)
        # The rows this run wrote carry its timestamp; a duplicate kept the earlier run's.
        new = list(EarlyWarningDraft.objects.filter(tenant_id=tenant_id, week=week, created_at=now))
        for draft in new:
            notify.draft_raised(draft)
    return len(new)


def draft_dismiss(
    *, actor: User, draft: EarlyWarningDraft, reason: str, now: dt.datetime | None = None
) -> EarlyWarningDraft:
    """The township decides the rise needs no warning; the draft is kept with the reason."""
    text = _text(reason, "reason", required=True)
    _need(actor, MANAGE, draft.node)
    rows = EarlyWarningDraft.objects.filter(pk=draft.pk, status=DraftStatus.DRAFT).update(
        status=DraftStatus.DISMISSED, reason=text, decided_by=actor, decided_at=now or timezone.now()
    )
    if rows != 1:
        raise ValidationError(_("This draft has already been decided."))
    draft.refresh_from_db()
    return draft


def draft_publish(
    *,
    actor: User,
    draft: EarlyWarningDraft,
    level: str,
    measures: str,
    ends_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> SecurityWarning:
    """Publish the draft as a warning to its cell."""
    now = now or timezone.now()
    if draft.status != DraftStatus.DRAFT:
        raise ValidationError(_("This draft has already been decided."))
    cell = GridNode.objects.get(pk=draft.cell_id) if draft.cell_id else draft.node
    title = _("Rise in %(kind)s at %(node)s") % {
        "kind": SubKind(draft.sub_kind).label,
        "node": draft.node.name,
    }
    return warning_publish(
        actor=actor,
        node=cell,
        level=level,
        title=str(title),
        measures=measures,
        starts_at=now,
        ends_at=ends_at,
        draft=draft,
        now=now,
    )


# --- 部门联动: meetings, decisions, joint enforcement -------------------------------------------


def _units_of_city(tenant_id: int, unit_ids: Sequence[int], field: str) -> list[Unit]:
    units = list(Unit.objects.filter(tenant_id=tenant_id, is_active=True, pk__in=list(unit_ids)))
    if len(units) != len(set(unit_ids)):
        raise ValidationError({field: [_("Choose active units of this city.")]})
    return units


def meeting_schedule(
    *,
    actor: User,
    node: GridNode,
    title: str,
    starts_at: dt.datetime | None,
    unit_ids: Sequence[int],
    place: str = "",
    agenda: str = "",
) -> Meeting:
    """Call a joint meeting of member departments; the invited units are told."""
    if node.level > Level.TOWNSHIP:
        raise ValidationError({"node": [_("Joint meetings are called by the city or a township.")]})
    _need(actor, MANAGE, node)
    title_text = _text(title, "title", limit=200, required=True)
    starts = _aware(starts_at, "starts_at")
    if not unit_ids:
        raise ValidationError({"units": [_("Invite at least one member unit.")]})
    units = _units_of_city(node.tenant_id, unit_ids, "units")
    with transaction.atomic():
        meeting = Meeting.objects.create(
            **scoping.ancestor_columns(node),
            node=node,
            title=title_text,
            starts_at=starts,
            place=_text(place, "place", limit=200),
            agenda=_text(agenda, "agenda", limit=TEXT_MAX),
            organiser=actor,
        )
        MeetingInvitee.objects.bulk_create([MeetingInvitee(meeting=meeting, unit=u) for u in units])
        notify.meeting_invited(meeting, [u.pk for u in units])
    return meeting


def meeting_record(
    *, actor: User, meeting: Meeting, minutes: str, attended_unit_ids: Sequence[int]
) -> Meeting:
    """Record the minutes and who attended."""
    _need(actor, MANAGE, meeting.node)
    text = _text(minutes, "minutes", limit=TEXT_MAX, required=True)
    with transaction.atomic():
        invited = set(meeting.invitees.values_list("unit_id", flat=True))
        if not set(attended_unit_ids) <= invited:
            raise ValidationError({"attended": [_("Only invited units can be recorded as attending.")]})
        meeting.invitees.filter(unit_id__in=list(attended_unit_ids)).update(attended=True)
        meeting.invitees.exclude(unit_id__in=list(attended_unit_ids)).update(attended=False)
        meeting.minutes = text
        meeting.status = MeetingStatus.HELD
        meeting.save(update_fields=["minutes", "status"])
    return meeting


def decision_add(
    *,
    actor: User,
    meeting: Meeting,
    text: str,
    owner: Unit | None,
    due_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> Decision:
    """A decision of the meeting becomes an action item of its owner unit, with a deadline."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if owner is None:
        errors["owner"] = [_("A decision needs an owner unit.")]
    elif owner.tenant_id != meeting.tenant_id or not owner.is_active:
        errors["owner"] = [_("Choose active units of this city.")]
    if due_at is None:
        errors["due_at"] = [_("A decision needs a deadline.")]
    elif due_at <= now:
        errors["due_at"] = [_("The deadline must lie in the future.")]
    if not (text or "").strip():
        errors["text"] = [_("Write the decision.")]
    if errors:
        raise ValidationError(errors)
    assert owner is not None  # refused above
    _need(actor, MANAGE, meeting.node)
    return Decision.objects.create(
        tenant_id=meeting.tenant_id,
        meeting=meeting,
        text=_text(text, "text", limit=500, required=True),
        owner=owner,
        due_at=_aware(due_at, "due_at"),
    )


def decision_complete(
    *, actor: User, decision: Decision, note: str, now: dt.datetime | None = None
) -> Decision:
    """The owner unit (or the meeting's platform) reports the action item done."""
    is_owner = Membership.objects.filter(unit_id=decision.owner_id, user_id=actor.pk).exists()
    if not is_owner and not scoping.can_now(actor, MANAGE, decision.meeting.node):
        raise PermissionDenied(_("Only the owner unit reports this decision done."))
    text = _text(note, "note", required=True)
    with transaction.atomic():
        rows = Decision.objects.filter(pk=decision.pk, status=DecisionStatus.OPEN).update(
            status=DecisionStatus.DONE, done_at=now or timezone.now(), done_by=actor, done_note=text
        )
        if rows != 1:
            raise ValidationError(_("This decision has already been reported done."))
        notify.supervision_withdraw(
            tenant_id=decision.tenant_id, kind=notify.DECISION_SUBJECT, subject_id=decision.pk
        )
    decision.refresh_from_db()
    return decision


def decisions_sweep(*, tenant_id: int, now: dt.datetime | None = None) -> tuple[int, int]:
    """Remind owners of decisions due within a day; supervise the overdue ones (each once)."""
    now = now or timezone.now()
    reminded = overdue = 0
    open_ = Decision.objects.filter(tenant_id=tenant_id, status=DecisionStatus.OPEN)
    for decision in open_.filter(
        reminded_at__isnull=True, due_at__lte=now + DECISION_REMIND_BEFORE, due_at__gt=now
    ):
        with transaction.atomic():
            if Decision.objects.filter(pk=decision.pk, reminded_at__isnull=True).update(reminded_at=now):
                notify.decision_due_soon(decision)
                reminded += 1
    for decision in open_.filter(overdue_at__isnull=True, due_at__lte=now):
        with transaction.atomic():
            if Decision.objects.filter(pk=decision.pk, overdue_at__isnull=True).update(overdue_at=now):
                notify.decision_supervise(decision)
                overdue += 1
    return reminded, overdue


def operation_create(
    *, actor: User, node: GridNode, title: str, cases: Sequence[Case], meeting: Meeting | None = None
) -> Operation:
    """A joint enforcement operation grouping the hazard cases it targets (all under `node`)."""
    _need(actor, MANAGE, node)
    title_text = _text(title, "title", limit=200, required=True)
    if not cases:
        raise ValidationError({"cases": [_("Choose the hazard cases the operation targets.")]})
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    for case in cases:
        if case.kind != CaseKind.HAZARD or getattr(case, column) != node.pk:
            raise ValidationError({"cases": [_("Only hazard cases under this grid can be targeted.")]})
    with transaction.atomic():
        op = Operation.objects.create(
            **scoping.ancestor_columns(node), node=node, title=title_text, meeting=meeting, created_by=actor
        )
        op.cases.set(cases)
    return op


# --- 信息共享 ------------------------------------------------------------------------------------


def post_create(*, actor: User, node: GridNode, title: str, body: str, share_up: bool = False) -> InfoPost:
    """Post a note or guidance at a node (read down the tree; up too when shared up)."""
    _need(actor, RECORD, node)
    return InfoPost.objects.create(
        **scoping.ancestor_columns(node),
        node=node,
        author=actor,
        title=_text(title, "title", limit=200, required=True),
        body=_text(body, "body", limit=TEXT_MAX, required=True),
        share_up=bool(share_up),
    )


def post_mark_read(*, actor: User, post: InfoPost) -> None:
    """Record that the actor read the post (once)."""
    InfoRead.objects.bulk_create([InfoRead(post=post, user=actor)], ignore_conflicts=True)


# --- 治安联防: analyses and patrols --------------------------------------------------------------


def analysis_create(
    *, actor: User, node: GridNode, period_start: dt.date, period_end: dt.date, conclusions: str = ""
) -> SecurityAnalysis:
    """A security situation analysis: incidents by node and kind in the period, beside the period before."""
    if period_end <= period_start:
        raise ValidationError({"period_end": [_("The end must come after the start.")]})
    if node.level > Level.CELL:
        raise ValidationError({"node": [_("Analyses are made for the city, a township or a cell.")]})
    _need(actor, MANAGE, node)
    figures = selectors.incident_figures(node, period_start, period_end)
    return SecurityAnalysis.objects.create(
        **scoping.ancestor_columns(node),
        node=node,
        period_start=period_start,
        period_end=period_end,
        figures=figures,
        conclusions=_text(conclusions, "conclusions", limit=TEXT_MAX),
        created_by=actor,
    )


@dataclass(frozen=True)
class FindingSpec:
    plot: GridNode
    text: str
    raise_case: bool = False
    kind: str = CaseKind.HAZARD
    sub_kind: str = SubKind.OTHER


def patrol_record(
    *,
    actor: User,
    cell: GridNode,
    team: str = "",
    team_unit: Unit | None = None,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    plots: Sequence[GridNode],
    member_ids: Sequence[int] = (),
    note: str = "",
    findings: Sequence[FindingSpec] = (),
) -> Patrol:
    """Log a patrol of the cell's team; findings marked `raise_case` become cases in the same step.

    The team is the cell's service team (`team_unit`, a unit of kind service team standing at the
    cell; its name is kept in `team`), or, for a team not registered as a unit, its name alone."""
    if cell.level != Level.CELL:
        raise ValidationError({"cell": [_("Patrols are logged for a cell.")]})
    _need(actor, RECORD, cell)
    if team_unit is not None:
        if not (
            team_unit.kind == UnitKind.SERVICE_TEAM
            and team_unit.is_active
            and team_unit.tenant_id == cell.tenant_id
            and team_unit.node_id == cell.pk
        ):
            raise ValidationError({"team_unit": [_("Choose a service team of this cell.")]})
        team = team or team_unit.name
    team_text = _text(team, "team", limit=100, required=True)
    start, end = _aware(started_at, "started_at"), _aware(ended_at, "ended_at")
    if end <= start:
        raise ValidationError({"ended_at": [_("The end must come after the start.")]})
    if not plots or any(p.parent_id != cell.pk for p in plots):
        raise ValidationError({"plots": [_("Choose the plots of this cell that were covered.")]})
    covered = {p.pk for p in plots}
    for spec in findings:
        if spec.plot.pk not in covered:
            raise ValidationError({"findings": [_("A finding must lie in a plot the patrol covered.")]})
        _text(spec.text, "findings", limit=500, required=True)
    members = list(
        Membership.objects.filter(user_id__in=list(member_ids), unit__tenant_id=cell.tenant_id)
        .values_list("user_id", flat=True)
        .distinct()
    )
    with transaction.atomic():
        patrol = Patrol.objects.create(
            **scoping.ancestor_columns(cell),
            node=cell,
            team=team_text,
            team_unit=team_unit,
            started_at=start,
            ended_at=end,
            note=_text(note, "note"),
            recorded_by=actor,
        )
        patrol.plots.set(plots)
        patrol.members.set(members)
        for spec in findings:
            finding = PatrolFinding.objects.create(
                tenant_id=cell.tenant_id, patrol=patrol, plot=spec.plot, text=spec.text.strip()
            )
            if spec.raise_case:
                finding_to_case(actor=actor, finding=finding, kind=spec.kind, sub_kind=spec.sub_kind)
    return patrol


def finding_to_case(*, actor: User, finding: PatrolFinding, kind: str, sub_kind: str = SubKind.OTHER) -> Case:
    """Turn a patrol's finding into a case at its plot, through the cases workflow (once)."""
    with transaction.atomic():
        locked = PatrolFinding.objects.select_for_update().select_related("plot").get(pk=finding.pk)
        if locked.case_id is not None:
            raise ValidationError(_("This finding is already a case."))
        case = case_services.case_record(
            actor=actor,
            node=locked.plot,
            kind=kind,
            sub_kind=sub_kind,
            source=Source.PATROL,
            source_ref=f"patrol:{locked.patrol_id}",
            title=locked.text[:200],
        )
        PatrolFinding.objects.filter(pk=locked.pk).update(case=case)
    finding.refresh_from_db()
    return case


# --- 专项行动 ------------------------------------------------------------------------------------


def campaign_create(
    *,
    actor: User,
    node: GridNode,
    kind: str,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    watched_sub_kind: str = "",
) -> Campaign:
    if kind not in CampaignKind.values:
        raise ValidationError({"kind": [_("Choose campaign or programme.")]})
    if ends_on <= starts_on:
        raise ValidationError({"ends_on": [_("The end must come after the start.")]})
    if watched_sub_kind and watched_sub_kind not in SubKind.values:
        raise ValidationError({"watched_sub_kind": [_("Unknown kind of incident.")]})
    if node.level > Level.TOWNSHIP:
        raise ValidationError({"node": [_("Campaigns are run by the city or a township.")]})
    _need(actor, MANAGE, node)
    return Campaign.objects.create(
        **scoping.ancestor_columns(node),
        node=node,
        kind=kind,
        name=_text(name, "name", limit=200, required=True),
        starts_on=starts_on,
        ends_on=ends_on,
        watched_sub_kind=watched_sub_kind,
        created_by=actor,
    )


def milestone_add(
    *,
    actor: User,
    campaign: Campaign,
    phase: str,
    title: str,
    due_on: dt.date,
    metric: str,
    case_kind: str = "",
    case_sub_kind: str = "",
    target_percent: int = 100,
) -> Milestone:
    errors: dict[str, Any] = {}
    if phase not in Phase.values:
        errors["phase"] = [_("Choose the phase.")]
    if metric not in Metric.values:
        errors["metric"] = [_("Choose how progress is measured.")]
    elif metric == Metric.CASES_CLOSED and case_kind not in CaseKind.values:
        errors["case_kind"] = [_("Choose the kind of case whose closing is measured.")]
    if case_sub_kind and case_sub_kind not in SubKind.values:
        errors["case_sub_kind"] = [_("Unknown sub-kind.")]
    if not 0 < int(target_percent) <= 100:
        errors["target_percent"] = [_("A target is 1 to 100 percent.")]
    if errors:
        raise ValidationError(errors)
    _need(actor, MANAGE, campaign.node)
    return Milestone.objects.create(
        tenant_id=campaign.tenant_id,
        campaign=campaign,
        phase=phase,
        title=_text(title, "title", limit=200, required=True),
        due_on=due_on,
        metric=metric,
        case_kind=case_kind,
        case_sub_kind=case_sub_kind,
        target_percent=target_percent,
    )


def tenant_ids() -> list[int]:
    return list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
