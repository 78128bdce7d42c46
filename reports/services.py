"""Assessment use cases: define a scheme, open and compute a round, score by hand, appeal and decide a
veto, publish. One transaction each; a published round refuses every change (messages in Chinese via
gettext); computing again replaces the lines of a round under review and never duplicates them
(unique per round and unit, per scorecard and indicator, per scorecard and veto item).

How a round is scored (decision 1302):
- rates (% closed on time, % households visited, % satisfied) are their own points (0-100), and so is
  the residents' survey index (0-100; insufficient under its minimum of answers, decision 1303);
- per-1,000-household rates (overdue cases, cards) score 100 for the best township with enough data
  and 0 for the worst, linearly between (all equal: 100);
- the change in incidents scores 50 - change/2, clipped to 0..100 (halved: 75, unchanged: 50);
- a hand-scored indicator takes its hand score (none yet: 0 points, marked insufficient);
- an indicator resting on fewer than the scheme's `min_cases` cases (or `min_households` households)
  is 'insufficient data': it gives no points, and a unit with any such indicator is shown as such and
  not ranked;
- the total is the sum of the weighted points (points x weight / 100); a standing or upheld veto fails
  the unit whatever its total (ranked after every unit not vetoed, by total).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    AlertLevel,
    Case,
    CaseKind,
    DeadlineAlert,
    Grade,
    OrderStatus,
    Severity,
    Status,
    SubKind,
    SupervisionOrder,
)
from grids import scoping, tree
from grids.models import GridNode, Household, Level, Tenant
from grids.registry.models import Status as HouseholdStatus
from teams.models import Visit

from .models import (
    DEPARTMENT_SOURCES,
    Indicator,
    Line,
    ManualScore,
    Round,
    RoundStatus,
    Scheme,
    Scorecard,
    Source,
    VetoHit,
    VetoItem,
    VetoKind,
    VetoStatus,
)
from .selectors import RATED, SATISFIED, round_snapshot

if TYPE_CHECKING:
    from teams.models import User

MANAGE = "manage_grid"  # the city's assessment is run by those who manage the city grid
APPEAL = "manage_cases"  # a township appeals a veto of its own scorecard
REASON_MAX = 2000
HIGHER_IS_BETTER = {Source.ON_TIME_RATE, Source.VISIT_COVERAGE, Source.SATISFACTION, Source.SURVEY_INDEX}
PER_1000 = {Source.OVERDUE_PER_1000, Source.CARDS_PER_1000}


def _require_city(actor: User, tenant_id: int) -> GridNode:
    root = tree.tenant_root(tenant_id)
    if not scoping.can_now(actor, MANAGE, root):
        raise PermissionDenied(_("Only the city's administrators run the assessment."))
    return root


def _frozen(rnd: Round) -> None:
    if rnd.status == RoundStatus.PUBLISHED:
        raise ValidationError(_("This round is published and frozen: it can no longer be changed."))


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    if len(value) > REASON_MAX:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": REASON_MAX}]})
    return value


# --- schemes and rounds -----------------------------------------------------------------------------


def scheme_create(
    *,
    actor: User,
    tenant: Tenant,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    indicators: Sequence[dict[str, Any]],
    vetoes: Sequence[dict[str, Any]] = (),
    min_cases: int = 5,
    min_households: int = 100,
) -> Scheme:
    """A scheme with its indicators (name, source, weight) and veto items (name, rule, threshold).

    Refused, nothing written: weights not adding up to 100, an unknown source, a veto item without a
    rule, a period ending before it starts.
    """
    _require_city(actor, tenant.pk)
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Give the scheme a name.")]
    if period_end < period_start:
        errors["period_end"] = [_("The period must end on or after its first day.")]
    total = 0
    department_total = 0  # a member department's indicators add up to 100 on their own (decision 1304)
    for ind in indicators:
        if ind.get("source") not in Source.values:
            errors.setdefault("indicators", []).append(_("Every indicator needs a known source."))
        weight = ind.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 < weight <= 100:
            errors.setdefault("indicators", []).append(_("Every weight is a whole number from 1 to 100."))
        elif ind.get("source") in DEPARTMENT_SOURCES:
            department_total += weight
        else:
            total += weight
    if not indicators:
        errors.setdefault("indicators", []).append(_("A scheme needs at least one indicator."))
    elif total != 100 and "indicators" not in errors:
        errors["indicators"] = [
            _("The weights must add up to 100 (they add up to %(total)d).") % {"total": total}
        ]
    elif department_total not in (0, 100) and "indicators" not in errors:
        errors["indicators"] = [
            _("The member departments' weights must add up to 100 (they add up to %(total)d).")
            % {"total": department_total}
        ]
    for veto in vetoes:
        if veto.get("rule") not in VetoKind.values:
            errors.setdefault("vetoes", []).append(_("Every veto item needs a rule over the data."))
        threshold = veto.get("threshold", 1)
        if not isinstance(threshold, int) or threshold < 1:
            errors.setdefault("vetoes", []).append(_("A veto threshold is a whole number of at least 1."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        scheme = Scheme.objects.create(
            tenant=tenant,
            name=name.strip(),
            period_start=period_start,
            period_end=period_end,
            min_cases=min_cases,
            min_households=min_households,
            created_by=actor,
        )
        Indicator.objects.bulk_create(
            [
                Indicator(
                    scheme=scheme,
                    name=(ind.get("name") or Source(ind["source"]).label)[:100],
                    source=ind["source"],
                    weight=ind["weight"],
                    order=i,
                )
                for i, ind in enumerate(indicators)
            ]
        )
        VetoItem.objects.bulk_create(
            [
                VetoItem(
                    scheme=scheme,
                    name=(v.get("name") or VetoKind(v["rule"]).label)[:100],
                    rule=v["rule"],
                    threshold=v.get("threshold", 1),
                )
                for v in vetoes
            ]
        )
    return scheme


def round_open(*, actor: User, scheme: Scheme, name: str) -> Round:
    """A round of a scheme; opening the same name again returns the existing round."""
    _require_city(actor, scheme.tenant_id)
    name = _text(name, "name", _("Give the round a name."))
    rnd, _created = Round.objects.get_or_create(
        scheme=scheme, name=name, defaults={"tenant_id": scheme.tenant_id}
    )
    return rnd


# --- computing -----------------------------------------------------------------------------------


def _bounds(scheme: Scheme) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(scheme.period_start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(scheme.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _year_before(moment: dt.datetime) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def _ids_by_township(qs: Any) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for township, pk in qs.order_by("township_id", "pk").values_list("township_id", "pk"):
        out.setdefault(township, []).append(pk)
    return out


def _measure(scheme: Scheme, townships: list[GridNode]) -> dict[str, Any]:
    """Every figure the indicators and veto items read, per township, over the city (one query per
    family, grouped by the township column)."""
    tenant_id = scheme.tenant_id
    start, end = _bounds(scheme)
    cases = Case.objects.filter(tenant_id=tenant_id, township__isnull=False).exclude(status=Status.MERGED)
    closed = cases.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    went_red = DeadlineAlert.objects.filter(case=OuterRef("pk"), level__gte=AlertLevel.RED)
    late = closed.filter(Exists(went_red))
    red_in_period = DeadlineAlert.objects.filter(
        tenant_id=tenant_id, level__gte=AlertLevel.RED, created_at__gte=start, created_at__lt=end
    )
    incidents = cases.filter(kind=CaseKind.INCIDENT)
    cards = SupervisionOrder.objects.filter(
        tenant_id=tenant_id, created_at__gte=start, created_at__lt=end, township__isnull=False
    ).exclude(status=OrderStatus.WITHDRAWN)
    households = dict(
        Household.objects.filter(tenant_id=tenant_id, status=HouseholdStatus.ACTIVE, township__isnull=False)
        .order_by()
        .values("township_id")
        .annotate(n=Count("pk"))
        .values_list("township_id", "n")
    )
    visited = dict(
        Visit.objects.filter(
            tenant_id=tenant_id, visited_on__gte=scheme.period_start, visited_on__lte=scheme.period_end
        )
        .order_by()
        .values("township_id")
        .annotate(n=Count("household_id", distinct=True))
        .values_list("township_id", "n")
    )
    return {
        "closed": _ids_by_township(closed),
        "late": _ids_by_township(late),
        "overdue": _ids_by_township(cases.filter(pk__in=red_in_period.values("case_id"))),
        "cards": _ids_by_township(cards.filter(grade__in=[Grade.YELLOW, Grade.RED])),
        "red_cards": _ids_by_township(cards.filter(grade=Grade.RED)),
        "incidents": _ids_by_township(incidents.filter(created_at__gte=start, created_at__lt=end)),
        "incidents_before": _ids_by_township(
            incidents.filter(created_at__gte=_year_before(start), created_at__lt=_year_before(end))
        ),
        "satisfied": _ids_by_township(closed.filter(satisfaction__in=SATISFIED)),
        "rated": _ids_by_township(closed.filter(satisfaction__in=RATED)),
        "critical": _ids_by_township(
            cases.filter(
                kind=CaseKind.INCIDENT, severity=Severity.CRITICAL, created_at__gte=start, created_at__lt=end
            )
        ),
        "mass": _ids_by_township(
            cases.filter(sub_kind=SubKind.MASS_INCIDENT, created_at__gte=start, created_at__lt=end)
        ),
        "households": households,
        "visited": visited,
        "survey": _survey_by_township(scheme),
    }


def _survey_by_township(scheme: Scheme) -> dict[int, tuple[int, float]]:
    """The residents' survey answers given in the period per township: (answers, summed points)."""
    from .survey import index_sums
    from .survey_models import SurveyResponse

    answers = SurveyResponse.objects.filter(
        tenant_id=scheme.tenant_id,
        township__isnull=False,
        answered_on__gte=scheme.period_start,
        answered_on__lte=scheme.period_end,
    )
    return {r["township"]: (r["n"], float(r["pts"] or 0)) for r in index_sums(answers, "township")}


def _raw(
    source: str, unit: int, m: dict[str, Any], scheme: Scheme
) -> tuple[float | None, int, bool, dict[str, Any]]:
    """(value, the count it rests on, insufficient, evidence) of one computed indicator for one unit."""

    def ids(key: str) -> list[int]:
        return m[key].get(unit, [])

    homes = m["households"].get(unit, 0)
    if source == Source.ON_TIME_RATE:
        closed, late = ids("closed"), ids("late")
        n = len(closed)
        value = round(100.0 * (n - len(late)) / n, 2) if n else None
        return value, n, n < scheme.min_cases, {"cases": closed, "late_cases": late}
    if source == Source.SATISFACTION:
        rated, satisfied = ids("rated"), ids("satisfied")
        n = len(rated)
        value = round(100.0 * len(satisfied) / n, 2) if n else None
        return value, n, n < scheme.min_cases, {"cases": rated, "satisfied_cases": satisfied}
    if source == Source.SURVEY_INDEX:
        from .survey import IndexSums

        sums = IndexSums(*m["survey"].get(unit, (0, 0.0)))
        return sums.index, sums.responses, sums.insufficient, {"answers": sums.responses}
    if source == Source.VISIT_COVERAGE:
        seen = m["visited"].get(unit, 0)
        value = round(100.0 * seen / homes, 2) if homes else None
        return value, homes, homes < scheme.min_households, {"households": homes, "visited": seen}
    if source in PER_1000:
        key = "overdue" if source == Source.OVERDUE_PER_1000 else "cards"
        rows = ids(key)
        value = round(1000.0 * len(rows) / homes, 3) if homes else None
        label = "cases" if key == "overdue" else "orders"
        return value, homes, homes < scheme.min_households, {label: rows, "households": homes}
    if source == Source.INCIDENT_CHANGE:
        now, before = ids("incidents"), ids("incidents_before")
        value = round(100.0 * (len(now) - len(before)) / len(before), 2) if before else None
        n = len(now) + len(before)
        return value, n, n < scheme.min_cases or not before, {"cases": now, "cases_year_before": before}
    raise ValueError(source)


def _q2(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def round_compute(*, actor: User, rnd: Round) -> Round:
    """Compute (or compute again) every township's scorecard of the round; a veto appealed or decided
    keeps its appeal and decision when the round is computed again."""
    _require_city(actor, rnd.tenant_id)
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=rnd.pk)
        _frozen(rnd)
        scheme = rnd.scheme
        townships = list(
            GridNode.objects.filter(tenant_id=rnd.tenant_id, level=Level.TOWNSHIP).order_by("code")
        )
        indicators = [i for i in scheme.indicators.all() if i.source not in DEPARTMENT_SOURCES]
        items = list(scheme.vetoes.all())
        m = _measure(scheme, townships)
        manual = {(s.indicator_id, s.unit_id): s for s in ManualScore.objects.filter(round=rnd)}

        # Raw values first: the per-1,000 rates are scored against the best and worst township.
        raw: dict[tuple[int, int], tuple[float | None, int, bool, dict[str, Any]]] = {}
        for ind in indicators:
            if ind.source == Source.MANUAL:
                continue
            for t in townships:
                raw[(ind.pk, t.pk)] = _raw(ind.source, t.pk, m, scheme)
        spans: dict[int, tuple[float, float]] = {}
        for ind in indicators:
            if ind.source in PER_1000:
                values = [raw[(ind.pk, t.pk)][0] for t in townships if not raw[(ind.pk, t.pk)][2]]
                known = [v for v in values if v is not None]
                if known:
                    spans[ind.pk] = (min(known), max(known))

        cards: dict[int, Scorecard] = {}
        for t in townships:
            card, _created = Scorecard.objects.update_or_create(
                round=rnd,
                unit=t,
                defaults={"tenant_id": rnd.tenant_id, "households": m["households"].get(t.pk, 0)},
            )
            cards[t.pk] = card
        Line.objects.filter(scorecard__round=rnd).delete()
        lines: list[Line] = []
        totals: dict[int, Decimal] = {t.pk: Decimal("0") for t in townships}
        short: dict[int, bool] = {t.pk: False for t in townships}
        for ind in indicators:
            for t in townships:
                note = ""
                if ind.source == Source.MANUAL:
                    hand = manual.get((ind.pk, t.pk))
                    value = float(hand.points) if hand else None
                    basis, insufficient = (1, False) if hand else (0, True)
                    evidence: dict[str, Any] = {"manual_score": hand.pk} if hand else {}
                    points = value or 0.0
                    note = hand.reason if hand else ""
                else:
                    value, basis, insufficient, evidence = raw[(ind.pk, t.pk)]
                    points = 0.0
                    if not insufficient and value is not None:
                        if ind.source in HIGHER_IS_BETTER:
                            points = value
                        elif ind.source == Source.INCIDENT_CHANGE:
                            points = min(100.0, max(0.0, 50.0 - value / 2))
                        else:
                            best, worst = spans.get(ind.pk, (value, value))
                            points = 100.0 if worst == best else 100.0 * (worst - value) / (worst - best)
                    elif not insufficient and ind.source in PER_1000:
                        points = 0.0
                if insufficient:
                    points = 0.0
                    short[t.pk] = True
                weighted = _q2(points * ind.weight / 100)
                totals[t.pk] += weighted
                lines.append(
                    Line(
                        scorecard=cards[t.pk],
                        indicator=ind,
                        value=value,
                        basis=basis,
                        points=round(points, 2),
                        weighted=weighted,
                        insufficient=insufficient,
                        note=note,
                        evidence=evidence,
                    )
                )
        Line.objects.bulk_create(lines)

        # Vetoes: a hit names its evidence; an existing hit keeps its appeal and decision.
        rule_data = {
            VetoKind.MAJOR_INCIDENT: "critical",
            VetoKind.MASS_INCIDENT: "mass",
            VetoKind.RED_CARDS: "red_cards",
        }
        kept: set[int] = set()
        for item in items:
            for t in townships:
                rows = m[rule_data[VetoKind(item.rule)]].get(t.pk, [])
                if len(rows) < item.threshold:
                    continue
                label = "orders" if item.rule == VetoKind.RED_CARDS else "cases"
                hit, _created = VetoHit.objects.update_or_create(
                    scorecard=cards[t.pk], item=item, defaults={"count": len(rows), "evidence": {label: rows}}
                )
                kept.add(hit.pk)
        VetoHit.objects.filter(scorecard__round=rnd, scorecard__department__isnull=True).exclude(
            pk__in=kept
        ).delete()
        _rank(rnd, totals, short)
        from .work_reports import departments_compute  # the member departments' scorecards

        departments_compute(rnd, _bounds(scheme))
        rnd.status = RoundStatus.COMPUTED
        rnd.computed_at = timezone.now()
        rnd.save(update_fields=["status", "computed_at"])
    return rnd


def _rank(rnd: Round, totals: dict[int, Decimal], short: dict[int, bool]) -> None:
    """Rank the units with enough data: units not vetoed by total, then vetoed units by total."""
    cards = list(Scorecard.objects.filter(round=rnd, department__isnull=True).annotate(
        vetoed_now=Exists(VetoHit.objects.filter(scorecard=OuterRef("pk")).filter(~Q(status=VetoStatus.OVERTURNED)))
    ))  # fmt: skip
    for card in cards:
        card.total = totals.get(card.unit_id or 0, Decimal("0"))
        card.insufficient = short.get(card.unit_id or 0, False)
        card.vetoed = card.vetoed_now
    ranked = sorted((c for c in cards if not c.insufficient), key=lambda c: (c.vetoed, -c.total, c.unit_id))
    for c in cards:
        c.rank = None
    for i, c in enumerate(ranked, start=1):
        c.rank = i
    Scorecard.objects.bulk_update(cards, ["total", "insufficient", "vetoed", "rank"])


def manual_score_set(
    *, actor: User, rnd: Round, indicator: Indicator, unit: GridNode, points: Decimal, reason: str
) -> ManualScore:
    """Score a hand-scored indicator for a unit, with its reason; the round must be computed again."""
    _require_city(actor, rnd.tenant_id)
    _frozen(rnd)
    if indicator.scheme_id != rnd.scheme_id or indicator.source != Source.MANUAL:
        raise ValidationError(
            {"indicator": [_("This indicator is not scored by hand in this round's scheme.")]}
        )
    if unit.tenant_id != rnd.tenant_id or unit.level != Level.TOWNSHIP:
        raise ValidationError({"unit": [_("Hand scores are given to the city's townships.")]})
    if not Decimal("0") <= points <= Decimal("100"):
        raise ValidationError({"points": [_("A hand score is from 0 to 100.")]})
    reason = _text(reason, "reason", _("A hand score needs its written reason."))
    score, _created = ManualScore.objects.update_or_create(
        round=rnd,
        indicator=indicator,
        unit=unit,
        defaults={"points": points, "reason": reason, "scored_by": actor, "scored_at": timezone.now()},
    )
    return score


# --- appeals and publishing ----------------------------------------------------------------------


def veto_appeal(*, actor: User, hit: VetoHit, reason: str) -> VetoHit:
    """The township (or the member department) appeals a veto of its scorecard (before the round is
    published): a township through its appeal right over its grid, a department through its members."""
    from teams.units import unit_ids_of

    with transaction.atomic():
        hit = (
            VetoHit.objects.select_for_update(of=("self",))
            .select_related("scorecard__round", "scorecard__unit")
            .get(pk=hit.pk)
        )
        _frozen(hit.scorecard.round)
        card = hit.scorecard
        if card.department_id is not None:
            if card.department_id not in unit_ids_of(actor):
                raise PermissionDenied(_("Only the department concerned may appeal its veto."))
        elif card.unit is None or not scoping.can_now(actor, APPEAL, card.unit):
            raise PermissionDenied(_("Only the township concerned may appeal its veto."))
        if hit.status != VetoStatus.STANDING:
            raise ValidationError(_("This veto has already been appealed."))
        hit.appeal_reason = _text(reason, "reason", _("An appeal needs its reason."))
        hit.status = VetoStatus.APPEALED
        hit.appealed_by = actor
        hit.appealed_at = timezone.now()
        hit.save(update_fields=["appeal_reason", "status", "appealed_by", "appealed_at"])
    return hit


def veto_decide(*, actor: User, hit: VetoHit, grant: bool, note: str) -> VetoHit:
    """The city decides an appeal: granted lifts the veto, refused upholds it; the ranking follows."""
    with transaction.atomic():
        hit = VetoHit.objects.select_for_update().select_related("scorecard__round").get(pk=hit.pk)
        rnd = hit.scorecard.round
        _require_city(actor, rnd.tenant_id)
        _frozen(rnd)
        if hit.status != VetoStatus.APPEALED:
            raise ValidationError(_("Only an appealed veto can be decided."))
        hit.decision_note = _text(note, "note", _("A decision needs its written reasons."))
        hit.status = VetoStatus.OVERTURNED if grant else VetoStatus.UPHELD
        hit.decided_by = actor
        hit.decided_at = timezone.now()
        hit.save(update_fields=["decision_note", "status", "decided_by", "decided_at"])
        if hit.scorecard.department_id is not None:  # the departments are ranked among themselves
            from .work_reports import rank_departments

            cards = Scorecard.objects.filter(round=rnd, department__isnull=False)
            rank_departments(
                rnd,
                {c.department_id or 0: c.total for c in cards},
                {c.department_id or 0: c.insufficient for c in cards},
            )
        else:
            cards = Scorecard.objects.filter(round=rnd, unit__isnull=False)
            _rank(
                rnd, {c.unit_id or 0: c.total for c in cards}, {c.unit_id or 0: c.insufficient for c in cards}
            )
    return hit


def round_publish(*, actor: User, rnd: Round) -> Round:
    """Freeze the round: its scorecards, lines and vetoes as they stand become the published snapshot."""
    _require_city(actor, rnd.tenant_id)
    with transaction.atomic():
        rnd = Round.objects.select_for_update().get(pk=rnd.pk)
        _frozen(rnd)
        if rnd.status != RoundStatus.COMPUTED:
            raise ValidationError(_("Compute the round before publishing it."))
        if VetoHit.objects.filter(scorecard__round=rnd, status=VetoStatus.APPEALED).exists():
            raise ValidationError(_("Decide every appeal before publishing the round."))
        rnd.snapshot = round_snapshot(rnd)
        rnd.status = RoundStatus.PUBLISHED
        rnd.published_at = timezone.now()
        rnd.published_by = actor
        rnd.save(update_fields=["snapshot", "status", "published_at", "published_by"])
    return rnd
