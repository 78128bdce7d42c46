"""Yearly work reports (述职) of the committee's member departments, and the member departments'
scorecards in an assessment round (issue 13, items 2 and 4; decision 1304).

Work reports: a member of the department submits the year's report (text and/or a file); the city
reviews it (a written note), then scores it (0-100). One report per unit and year (a unique
constraint: submitting twice is refused, nothing written); a report under review or scored is no
longer edited by the unit; a score is given once, after the review, within 0-100.

Department scorecards: when a scheme has indicators of the department sources (`unit_on_time_rate`,
`unit_overdue`, `unit_cards`, `work_report`, their weights adding up to 100 on their own), computing
a round also scores every active member department of the city, over the cases where the department
is the responsible unit:
- cases closed on time (%): its own points;
- cases gone overdue (% of the cases it handled in the period): 100 minus the rate;
- supervision cards (yellow and red) per 100 cases handled: 100 for the best department with enough
  data, 0 for the worst, linearly between;
- the work report's score for the year the period ends in (not yet scored: insufficient data).
Fewer than the scheme's `min_cases` cases behind a rate is 'insufficient data' (no points, not
ranked), as for townships; a red-card veto item fails a department as it fails a township. The
departments are ranked among themselves, apart from the townships.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import AlertLevel, Case, DeadlineAlert, Grade, OrderStatus, Status, SupervisionOrder
from grids import scoping, tree
from grids.models import Level
from teams.models import Membership, Unit, UnitKind
from teams.units import unit_ids_of

from .models import (
    WORK_REPORT_TEXT_MAX,
    Line,
    Round,
    Scorecard,
    Source,
    VetoHit,
    VetoKind,
    VetoStatus,
    WorkReport,
    WorkReportStatus,
)
from .selectors import scorecard_dict

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

MANAGE = "manage_grid"  # the city's assessment is run by those who manage the city grid
ATTACHMENT_MAX = 20 * 1024 * 1024
ATTACHMENT_TYPES = {
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
}


# --- who sees what ---------------------------------------------------------------------------------


def city_wide(actor: User | AnonymousUser) -> bool:
    """Does the actor see the whole city (a grant at the city's root, or a platform superuser)?"""
    if scoping.is_unrestricted(actor):
        return True
    return any(g.level == Level.CITY for g in scoping.grants(actor, scoping.VIEW))


def work_reports_visible(actor: User | AnonymousUser) -> QuerySet[WorkReport]:
    """The city's reports for those who see the whole city; a department's own reports for its members."""
    qs = WorkReport.objects.select_related("unit", "submitted_by", "reviewer").order_by("-year", "unit__code")
    if scoping.is_unrestricted(actor):
        return qs
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None or not (actor.is_authenticated and actor.is_active):
        return qs.none()
    qs = qs.filter(tenant_id=tenant_id)
    if city_wide(actor):
        return qs
    return qs.filter(unit_id__in=sorted(unit_ids_of(actor)))


def work_report_get(actor: User | AnonymousUser, pk: Any) -> WorkReport:
    return scoping.get_in_scope_or_404(work_reports_visible(actor), pk=pk)


def reporting_units(actor: User | AnonymousUser) -> list[Unit]:
    """The member departments the actor works in (whose reports they may submit)."""
    return [u for u in _units_of(actor) if u.kind == UnitKind.DEPARTMENT]


def _units_of(actor: User | AnonymousUser) -> tuple[Unit, ...]:
    from teams.units import units_of

    return units_of(actor)


def may_manage(actor: User | AnonymousUser) -> bool:
    """May the actor review and score (the city's administrators), for what a page shows."""
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None:
        return False
    return any(g.level == Level.CITY for g in scoping.grants(actor, MANAGE))


def department_scorecards_visible(actor: User | AnonymousUser) -> QuerySet[Scorecard]:
    """Department scorecards: every one for those who see the whole city, a department's own for
    its members."""
    from django.db.models import Prefetch

    qs = (
        Scorecard.objects.filter(department__isnull=False)
        .select_related("department", "round", "round__scheme")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("indicator")),
            Prefetch("vetoes", queryset=VetoHit.objects.select_related("item")),
        )
    )
    if scoping.is_unrestricted(actor):
        return qs
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None or not (actor.is_authenticated and actor.is_active):
        return qs.none()
    qs = qs.filter(tenant_id=tenant_id)
    return qs if city_wide(actor) else qs.filter(department_id__in=sorted(unit_ids_of(actor)))


def department_cards_for(
    actor: User | AnonymousUser, rnd: Round, cards: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The department cards of a round's data the actor may see."""
    if city_wide(actor):
        return cards
    mine = unit_ids_of(actor)
    return [c for c in cards if c["unit"]["id"] in mine]


def department_snapshot(rnd: Round) -> list[dict[str, Any]]:
    """The round's department scorecards as plain data, ranked (three queries)."""
    from django.db.models import F, Prefetch

    cards = (
        Scorecard.objects.filter(round=rnd, department__isnull=False)
        .select_related("department")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("indicator")),
            Prefetch("vetoes", queryset=VetoHit.objects.select_related("item")),
        )
        .order_by(F("rank").asc(nulls_last=True), "department__code")
    )
    return [card_dict(c) for c in cards]


def card_dict(card: Scorecard) -> dict[str, Any]:
    """A member department's scorecard as plain data (the township's shape, marked as a department's)."""
    return {**scorecard_dict(card), "kind": "department"}


# --- work reports: use cases -----------------------------------------------------------------------


def _audit(actor: User, report: WorkReport, action: str, fields: list[str]) -> None:
    from grids.audit.services import audit_record

    audit_record(
        actor=actor, action=action, obj=report, node=tree.tenant_root(report.tenant_id),
        details={"fields": fields},
    )  # fmt: skip


def _require_city(actor: User, tenant_id: int) -> None:
    if not scoping.can_now(actor, MANAGE, tree.tenant_root(tenant_id)):
        raise PermissionDenied(_("Only the city's administrators review and score work reports."))


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if len(text) > WORK_REPORT_TEXT_MAX:
        raise ValidationError(
            {"text": [_("At most %(n)d characters (this has %(count)d).") % {"n": WORK_REPORT_TEXT_MAX, "count": len(text)}]}
        )  # fmt: skip
    return text


def _clean_file(upload: UploadedFile | None) -> UploadedFile | None:
    if upload is None:
        return None
    if upload.size is not None and upload.size > ATTACHMENT_MAX:
        raise ValidationError({"attachment": [_("The file is larger than 20 MB.")]})
    if (upload.content_type or "") not in ATTACHMENT_TYPES:
        raise ValidationError({"attachment": [_("Attach the report as PDF, Word or plain text.")]})
    return upload


def work_report_submit(
    *, actor: User, unit: Unit, year: int, text: str = "", attachment: UploadedFile | None = None
) -> WorkReport:
    """A member department submits its report of `year` (once: a second submission is refused)."""
    if unit.tenant_id != actor.tenant_id or unit.kind != UnitKind.DEPARTMENT or not unit.is_active:
        raise ValidationError({"unit": [_("Work reports are submitted by the city's member departments.")]})
    if not Membership.objects.filter(unit=unit, user=actor).exists():
        raise PermissionDenied(_("Only the department's own staff submit its work report."))
    this_year = timezone.localdate().year
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= this_year:
        raise ValidationError({"year": [_("Give a year from 2000 to this year.")]})
    text = _clean_text(text)
    upload = _clean_file(attachment)
    if not text and upload is None:
        raise ValidationError({"text": [_("Write the report or attach its file.")]})
    try:
        with transaction.atomic():
            report = WorkReport(
                tenant_id=unit.tenant_id, unit=unit, year=year, text=text, submitted_by=actor,
                submitted_at=timezone.now(),
            )  # fmt: skip
            if upload is not None:
                report.attachment.save(upload.name or "report", upload, save=False)
            report.save(force_insert=True)
            _audit(actor, report, "add", ["year", "text", "attachment"])
    except IntegrityError as exc:
        raise ValidationError(
            {"year": [_("%(unit)s has already submitted its work report for %(year)d.") % {"unit": unit.name, "year": year}]}
        ) from exc  # fmt: skip
    return report


def work_report_edit(
    *, actor: User, report: WorkReport, text: str, attachment: UploadedFile | None = None
) -> WorkReport:
    """The department corrects its report while it awaits review; once reviewed it is refused."""
    text = _clean_text(text)
    upload = _clean_file(attachment)
    with transaction.atomic():
        report = WorkReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
        if not Membership.objects.filter(unit_id=report.unit_id, user=actor).exists():
            raise PermissionDenied(_("Only the department's own staff submit its work report."))
        if report.status != WorkReportStatus.SUBMITTED:
            raise ValidationError(_("This work report has been reviewed: it can no longer be changed."))
        if not text and upload is None and not report.attachment:
            raise ValidationError({"text": [_("Write the report or attach its file.")]})
        report.text = text
        fields = ["text"]
        if upload is not None:
            report.attachment.save(upload.name or "report", upload, save=False)
            fields.append("attachment")
        report.save(update_fields=fields)
        _audit(actor, report, "change", fields)
    return report


def work_report_review(*, actor: User, report: WorkReport, note: str) -> WorkReport:
    """The city reviews a submitted report, with its written note."""
    _require_city(actor, report.tenant_id)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("A review needs its written note.")]})
    if len(note) > 2000:
        raise ValidationError({"note": [_("At most %(n)d characters.") % {"n": 2000}]})
    with transaction.atomic():
        report = WorkReport.objects.select_for_update().get(pk=report.pk)
        if report.status != WorkReportStatus.SUBMITTED:
            raise ValidationError(_("This work report has already been reviewed."))
        report.status = WorkReportStatus.REVIEWED
        report.reviewer = actor
        report.reviewed_at = timezone.now()
        report.review_note = note
        report.save(update_fields=["status", "reviewer", "reviewed_at", "review_note"])
        _audit(actor, report, "change", ["status", "review_note"])
    return report


def work_report_score(*, actor: User, report: WorkReport, score: Decimal) -> WorkReport:
    """The city scores a reviewed report, once, from 0 to 100."""
    _require_city(actor, report.tenant_id)
    if not isinstance(score, Decimal) or not score.is_finite() or not Decimal(0) <= score <= Decimal(100):
        raise ValidationError({"score": [_("A work report is scored from 0 to 100.")]})
    score = score.quantize(Decimal("0.01"))
    with transaction.atomic():
        report = WorkReport.objects.select_for_update().get(pk=report.pk)
        if report.status == WorkReportStatus.SCORED:
            raise ValidationError(_("This work report has already been scored."))
        if report.status != WorkReportStatus.REVIEWED:
            raise ValidationError(_("Review the work report before scoring it."))
        report.status = WorkReportStatus.SCORED
        report.score = score
        report.scored_at = timezone.now()
        report.save(update_fields=["status", "score", "scored_at"])
        _audit(actor, report, "change", ["status", "score"])
    return report


# --- department scorecards -------------------------------------------------------------------------


def _ids_by_unit(qs: Any, column: str = "responsible_unit_id") -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for unit, pk in qs.order_by(column, "pk").values_list(column, "pk"):
        out.setdefault(unit, []).append(pk)
    return out


def _measure(tenant_id: int, start: dt.datetime, end: dt.datetime, year: int) -> dict[str, Any]:
    """Per member department: the cases it closed, closed late, handled, let go overdue; the cards
    against it; its scored work report (one query each, grouped by the unit)."""
    cases = Case.objects.filter(tenant_id=tenant_id, responsible_unit__kind=UnitKind.DEPARTMENT).exclude(
        status=Status.MERGED
    )
    closed = cases.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    went_red = DeadlineAlert.objects.filter(case=OuterRef("pk"), level__gte=AlertLevel.RED)
    handled = cases.filter(created_at__lt=end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
    red_in_period = DeadlineAlert.objects.filter(
        case=OuterRef("pk"), level__gte=AlertLevel.RED, created_at__gte=start, created_at__lt=end
    )
    cards = SupervisionOrder.objects.filter(
        tenant_id=tenant_id, created_at__gte=start, created_at__lt=end, unit__kind=UnitKind.DEPARTMENT,
        grade__in=[Grade.YELLOW, Grade.RED],
    ).exclude(status=OrderStatus.WITHDRAWN)  # fmt: skip
    reports = {
        unit: (score, pk)
        for unit, score, pk in WorkReport.objects.filter(
            tenant_id=tenant_id, year=year, status=WorkReportStatus.SCORED
        ).values_list("unit_id", "score", "pk")
    }
    return {
        "closed": _ids_by_unit(closed),
        "late": _ids_by_unit(closed.filter(Exists(went_red))),
        "handled": _ids_by_unit(handled),
        "overdue": _ids_by_unit(handled.filter(Exists(red_in_period))),
        "cards": _ids_by_unit(cards, "unit_id"),
        "red_cards": _ids_by_unit(cards.filter(grade=Grade.RED), "unit_id"),
        "reports": reports,
    }


def _raw(
    source: str, unit: int, m: dict[str, Any], min_cases: int
) -> tuple[float | None, int, bool, dict[str, Any]]:
    def ids(key: str) -> list[int]:
        return list(m[key].get(unit, []))

    if source == Source.UNIT_ON_TIME_RATE:
        closed, late = ids("closed"), ids("late")
        n = len(closed)
        value = round(100.0 * (n - len(late)) / n, 2) if n else None
        return value, n, n < min_cases, {"cases": closed, "late_cases": late}
    handled = ids("handled")
    n = len(handled)
    if source == Source.UNIT_OVERDUE:
        overdue = ids("overdue")
        value = round(100.0 * len(overdue) / n, 2) if n else None
        return value, n, n < min_cases, {"cases": handled, "overdue_cases": overdue}
    if source == Source.UNIT_CARDS:
        orders = ids("cards")
        value = round(100.0 * len(orders) / n, 3) if n else None
        return value, n, n < min_cases, {"orders": orders, "cases": handled}
    if source == Source.WORK_REPORT:
        found = m["reports"].get(unit)
        if found is None:
            return None, 0, True, {}
        return float(found[0]), 1, False, {"work_report": found[1]}
    raise ValueError(source)


def departments_compute(rnd: Round, bounds: tuple[dt.datetime, dt.datetime]) -> None:
    """Score every active member department of the city in the round (inside `round_compute`'s
    transaction, after the townships); nothing when the scheme has no department indicator."""
    from .models import DEPARTMENT_SOURCES
    from .services import _q2

    scheme = rnd.scheme
    indicators = [i for i in scheme.indicators.all() if i.source in DEPARTMENT_SOURCES]
    existing = Scorecard.objects.filter(round=rnd, department__isnull=False)
    if not indicators:
        existing.delete()
        return
    start, end = bounds
    departments = list(
        Unit.objects.filter(tenant_id=rnd.tenant_id, kind=UnitKind.DEPARTMENT, is_active=True).order_by(
            "code"
        )
    )
    existing.exclude(department__in=departments).delete()
    m = _measure(rnd.tenant_id, start, end, scheme.period_end.year)
    raw = {(i.pk, d.pk): _raw(i.source, d.pk, m, scheme.min_cases) for i in indicators for d in departments}
    spans: dict[int, tuple[float, float]] = {}
    for ind in indicators:
        if ind.source == Source.UNIT_CARDS:
            known = [raw[(ind.pk, d.pk)][0] for d in departments if not raw[(ind.pk, d.pk)][2]]
            values = [v for v in known if v is not None]
            if values:
                spans[ind.pk] = (min(values), max(values))
    cards: dict[int, Scorecard] = {}
    for d in departments:
        card, _created = Scorecard.objects.update_or_create(
            round=rnd, department=d, defaults={"tenant_id": rnd.tenant_id, "households": 0}
        )
        cards[d.pk] = card
    totals = {d.pk: Decimal("0") for d in departments}
    short = {d.pk: False for d in departments}
    lines = []
    for ind in indicators:
        for d in departments:
            value, basis, insufficient, evidence = raw[(ind.pk, d.pk)]
            points = 0.0
            if not insufficient and value is not None:
                if ind.source in (Source.UNIT_ON_TIME_RATE, Source.WORK_REPORT):
                    points = value
                elif ind.source == Source.UNIT_OVERDUE:
                    points = max(0.0, 100.0 - value)
                else:
                    best, worst = spans.get(ind.pk, (value, value))
                    points = 100.0 if worst == best else 100.0 * (worst - value) / (worst - best)
            if insufficient:
                points = 0.0
                short[d.pk] = True
            weighted = _q2(points * ind.weight / 100)
            totals[d.pk] += weighted
            lines.append(
                Line(
                    scorecard=cards[d.pk], indicator=ind, value=value, basis=basis, points=round(points, 2),
                    weighted=weighted, insufficient=insufficient, evidence=evidence,
                )
            )  # fmt: skip
    Line.objects.bulk_create(lines)
    kept: set[int] = set()
    for item in scheme.vetoes.all():
        if item.rule != VetoKind.RED_CARDS:
            continue  # incidents happen in townships; a department answers for its red cards
        for d in departments:
            rows = m["red_cards"].get(d.pk, [])
            if len(rows) < item.threshold:
                continue
            hit, _created = VetoHit.objects.update_or_create(
                scorecard=cards[d.pk], item=item, defaults={"count": len(rows), "evidence": {"orders": rows}}
            )
            kept.add(hit.pk)
    VetoHit.objects.filter(scorecard__round=rnd, scorecard__department__isnull=False).exclude(
        pk__in=kept
    ).delete()
    rank_departments(rnd, totals, short)


def rank_departments(rnd: Round, totals: dict[int, Decimal], short: dict[int, bool]) -> None:
    """Rank the departments with enough data among themselves: not vetoed by total, then vetoed."""
    vetoed = VetoHit.objects.filter(scorecard=OuterRef("pk")).filter(~Q(status=VetoStatus.OVERTURNED))
    cards = list(
        Scorecard.objects.filter(round=rnd, department__isnull=False).annotate(vetoed_now=Exists(vetoed))
    )
    for card in cards:
        assert card.department_id is not None
        card.total = totals.get(card.department_id, Decimal("0"))
        card.insufficient = short.get(card.department_id, False)
        card.vetoed = card.vetoed_now  # type: ignore[attr-defined]
        card.rank = None
    ranked = sorted(
        (c for c in cards if not c.insufficient), key=lambda c: (c.vetoed, -c.total, c.department_id)
    )
    for i, c in enumerate(ranked, start=1):
        c.rank = i
    Scorecard.objects.bulk_update(cards, ["total", "insufficient", "vetoed", "rank"])
