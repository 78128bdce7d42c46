"""The dashboards' figures: aggregates over the ancestor columns, one query per figure family for the
node and all its children at once (GROUP BY the child's column), never one query per node.

A dashboard is read for a grid node the caller fetched in scope (`grids.scoping.get_node_or_404`)
and a month. Every row set below also goes through `grids.scoping.scope_rows`, so the figures can
only ever count rows the actor may see. The queries, in order (`dashboard` docstring names them):

1. the node's children, each with its plots and the plots that have a responsible member;
(then the monthly summary's rows of the node and its children, `reports.summary`: the past months it
holds are read from there, and the families below count only the months from the first it does not
hold, always including this month; a dashboard of a summarised month skips 2-5 and 7);
2. outcomes: cases recorded per child and month over 13 months, by outcome (incidents, hazards,
   petitions);
3. satisfaction: cases closed per child and month over 13 months with the residents' answer at the
   close-out call (the survey of issue 13 is not built: until it is, satisfaction is this);
4. handling: cases open at the month's end, closed in the month, closed on time, gone overdue;
5. supervision cards (yellow and red) issued in the month;
6. households (active) per child;
7. households visited in the month per child;
8. the residents' survey (issue 13): answers per child and month over 13 months with their points,
   the sense-of-safety and satisfaction index (`reports.survey`; the close-out figure of 3 stays).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from cases.models import (
    AlertLevel,
    Case,
    CaseKind,
    Grade,
    OrderStatus,
    Satisfaction,
    Status,
    SupervisionOrder,
)
from cases.models import DeadlineAlert as Alert
from grids import scoping
from grids.models import GridNode, Household, Level
from grids.registry.models import Status as HouseholdStatus
from teams.models import PlotAssignment, Visit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

VIEW = scoping.VIEW
TREND_MONTHS = 12
# The outcome figures the programme is judged by, from the cases' kinds.
OUTCOMES: dict[str, Q] = {
    "incidents": Q(kind=CaseKind.INCIDENT),  # criminal and public-order incidents (刑事治安发案)
    "hazards": Q(kind=CaseKind.HAZARD),  # safety hazards (安全事故隐患)
    "petitions": Q(kind=CaseKind.PETITION),  # petitions (信访案件)
}
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)
RATED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY, Satisfaction.UNSATISFIED)
# Every figure a child row and the map can show, in the table's order.
CHILD_FIGURES = (
    "incidents",
    "hazards",
    "petitions",
    "satisfaction",
    "open",
    "overdue",
    "closed",
    "on_time_rate",
    "cards",
    "households",
    "visited",
    "visit_coverage",
    "plots",
    "plots_covered",
    "plot_coverage",
    "survey_index",
    "survey_responses",
)


class MonthError(ValueError):
    pass


def parse_month(value: str | None, *, today: dt.date | None = None) -> dt.date:
    """`YYYY-MM` to the month's first day; empty means the current month. Later months are refused."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    if not value:
        return this_month
    try:
        year, month = (int(p) for p in value.split("-", 1))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise MonthError(value) from exc
    if first > this_month or year < 2000:
        raise MonthError(value)
    return first


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's first moment and the next month's first moment, in the city's time zone."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = add_months(month, 1)
    return start, dt.datetime(nxt.year, nxt.month, 1, tzinfo=tz)


def _key(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.year:04d}-{value.month:02d}"


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _survey_index(responses: int, points: float) -> float | None:
    """The survey index (0-100) of answers' summed points; None under the minimum number of answers."""
    from .survey_models import SURVEY_MIN_RESPONSES

    return round(points / responses, 1) if responses and responses >= SURVEY_MIN_RESPONSES else None


@dataclass
class Outcome:
    """One outcome figure: this month, the 12 months to it, the same month a year before."""

    value: float | int | None
    trend: list[float | int | None]
    last_year: float | int | None
    rated: int | None = None  # satisfaction only: how many answers the value rests on

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.last_year is None:
            return None
        diff = self.value - self.last_year
        return round(diff, 1) if isinstance(diff, float) else diff

    @property
    def change_pct(self) -> float | None:
        if self.value is None or not self.last_year:
            return None
        return round(100.0 * (self.value - self.last_year) / self.last_year, 1)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "value": self.value,
            "trend": self.trend,
            "last_year": self.last_year,
            "change": self.change,
            "change_pct": self.change_pct,
        }
        if self.rated is not None:
            out["rated"] = self.rated
        return out


@dataclass
class Row:
    """The figures of one child (or of the node itself)."""

    incidents: int = 0
    hazards: int = 0
    petitions: int = 0
    satisfied: int = 0
    rated: int = 0
    open: int = 0
    overdue: int = 0
    closed: int = 0
    closed_on_time: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    households: int = 0
    visited: int = 0
    plots: int = 0
    plots_covered: int = 0
    survey_responses: int = 0
    survey_points: float = 0.0

    @property
    def survey_index(self) -> float | None:
        return _survey_index(self.survey_responses, self.survey_points)

    @property
    def satisfaction(self) -> float | None:
        return _pct(self.satisfied, self.rated)

    @property
    def on_time_rate(self) -> float | None:
        return _pct(self.closed_on_time, self.closed)

    @property
    def cards(self) -> int:
        return self.yellow_cards + self.red_cards

    @property
    def visit_coverage(self) -> float | None:
        return _pct(self.visited, self.households)

    @property
    def plot_coverage(self) -> float | None:
        return _pct(self.plots_covered, self.plots)

    def add(self, other: Row) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CHILD_FIGURES}


@dataclass
class Dashboard:
    node: GridNode
    month: dt.date
    months: list[str]  # the trend's 12 months, oldest first
    outcomes: dict[str, Outcome]
    total: Row
    children: list[tuple[GridNode, Row]] = field(default_factory=list)
    child_level: int | None = None
    # When the past months came from the monthly summary (reports.summary): its oldest refresh.
    summarised_at: dt.datetime | None = None


def _child_column(node: GridNode) -> str | None:
    return scoping.LEVEL_COLUMN[Level(node.level + 1)] if node.level < Level.PLOT else None


def _rows_under(actor: User | AnonymousUser, qs: Any, node: GridNode) -> Any:
    """Rows of a `GridScoped` model under `node`, limited to the actor's scope (ancestor columns)."""
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    return scoping.scope_rows(actor, VIEW, qs).filter(tenant_id=node.tenant_id, **{column: node.pk})


def _group(qs: Any, child: str | None, *extra: str) -> Any:
    fields = ([child] if child else []) + list(extra)
    return qs.order_by().values(*fields)


def dashboard(*, actor: User | AnonymousUser, node: GridNode, month: dt.date) -> Dashboard:
    """The dashboard of `node` (fetched in scope by the caller) for `month`: at most nine queries
    (the summary's, then the live ones its months leave; a summarised month needs only 1, 2 and 7), and
    the residents' survey answers (always live: one query)."""
    from . import summary

    child = _child_column(node)
    first = add_months(month, -TREND_MONTHS)  # the same month a year before
    range_start, _ = month_bounds(first)
    start, end = month_bounds(month)
    keys = [_key(add_months(month, -i)) for i in range(TREND_MONTHS - 1, -1, -1)]
    last_year_key = _key(first)

    # 1. children with their plots and covered plots (the plot counts are correlated subqueries on
    #    the tree's range index and on the assignments' ancestor index).
    children: list[GridNode] = []
    if child:
        if node.level + 1 < Level.PLOT:
            covered = (
                PlotAssignment.objects.filter(
                    **{child: OuterRef("pk")}, tenant_id=node.tenant_id, ended_at__isnull=True
                )
                .order_by()
                .values(child)
                .annotate(n=Count("pk"))
                .values("n")
            )
            plots_expr: Any = scoping.descendants_at(Level.PLOT)
            covered_expr: Any = Coalesce(Subquery(covered, output_field=IntegerField()), 0)
        else:
            plots_expr = Value(1, output_field=IntegerField())
            covered_expr = Exists(PlotAssignment.objects.filter(plot=OuterRef("pk"), ended_at__isnull=True))
        children = list(
            scoping.scope_nodes(actor)
            .filter(parent=node)
            .annotate(n_plots=plots_expr, n_covered=covered_expr)
            .order_by(*scoping.TREE_ORDER)
        )
    rows: dict[int | None, Row] = {
        c.pk: Row(plots=c.n_plots, plots_covered=int(c.n_covered)) for c in children
    }

    def row(key: int | None) -> Row:
        return rows.setdefault(key, Row())

    # 2. the monthly summary of the node and its children, for the past months it holds: the months
    #    from the first it does not hold (at least this month) are counted live below.
    stored = summary.stored(
        tenant_id=node.tenant_id, node_ids=[node.pk, *(c.pk for c in children)], first=first, last=month
    )
    live_from = next(
        (m for m in (add_months(first, i) for i in range(TREND_MONTHS + 1)) if m not in stored.covered), None
    )
    if live_from is not None:
        range_start, _ = month_bounds(live_from)
    from_summary = live_from is None  # the dashboard's month itself is summarised

    trends: dict[str, dict[str, int]] = {name: {} for name in OUTCOMES}
    sat_trend: dict[str, list[int]] = {}

    # 3. outcomes per child and month.
    cases = _rows_under(actor, Case.objects.all(), node).exclude(status=Status.MERGED)
    recorded = (
        _group(cases.filter(created_at__gte=range_start, created_at__lt=end), child)
        .annotate(m=TruncMonth("created_at"))
        .values(*([child] if child else []), "m")
        .annotate(**{name: Count("pk", filter=q) for name, q in OUTCOMES.items()})
    )
    for r in recorded if live_from else ():
        k = _key(r["m"])
        for name in OUTCOMES:
            trends[name][k] = trends[name].get(k, 0) + r[name]
            if k == keys[-1]:
                setattr(row(r.get(child)), name, getattr(row(r.get(child)), name) + r[name])

    # 4. satisfaction at close-out per child and month.
    closed = (
        _group(
            cases.filter(status=Status.CLOSED, closed_at__gte=range_start, closed_at__lt=end),
            child,
        )
        .annotate(m=TruncMonth("closed_at"))
        .values(*([child] if child else []), "m")
        .annotate(
            satisfied=Count("pk", filter=Q(satisfaction__in=SATISFIED)),
            rated=Count("pk", filter=Q(satisfaction__in=RATED)),
        )
    )
    for r in closed if live_from else ():
        k = _key(r["m"])
        pair = sat_trend.setdefault(k, [0, 0])
        pair[0] += r["satisfied"]
        pair[1] += r["rated"]
        if k == keys[-1]:
            target = row(r.get(child))
            target.satisfied += r["satisfied"]
            target.rated += r["rated"]

    # 5. handling: open at the month's end, closed in it, closed without ever going overdue, and the
    #    cases that went overdue during it (a red warning raised in the month).
    went_red = Alert.objects.filter(case=OuterRef("pk"), level__gte=AlertLevel.RED)
    red_in_month = went_red.filter(created_at__gte=start, created_at__lt=end)
    closed_in_month = Q(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    handling = _group(
        cases.filter(created_at__lt=end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start)),
        child,
    ).annotate(
        open=Count("pk", filter=Q(closed_at__isnull=True) | Q(closed_at__gte=end)),
        closed=Count("pk", filter=closed_in_month),
        closed_on_time=Count("pk", filter=closed_in_month & ~Q(Exists(went_red))),
        overdue=Count("pk", filter=Q(Exists(red_in_month))),
    )
    for r in handling if not from_summary else ():
        target = row(r.get(child))
        target.open += r["open"]
        target.closed += r["closed"]
        target.closed_on_time += r["closed_on_time"]
        target.overdue += r["overdue"]

    # 6. supervision cards issued in the month.
    cards = _group(
        _rows_under(actor, SupervisionOrder.objects.all(), node)
        .filter(created_at__gte=start, created_at__lt=end, grade__in=[Grade.YELLOW, Grade.RED])
        .exclude(status=OrderStatus.WITHDRAWN),
        child,
    ).annotate(
        yellow=Count("pk", filter=Q(grade=Grade.YELLOW)),
        red=Count("pk", filter=Q(grade=Grade.RED)),
    )
    for r in cards if not from_summary else ():
        target = row(r.get(child))
        target.yellow_cards += r["yellow"]
        target.red_cards += r["red"]

    # 7. active households per child.
    households = _group(
        _rows_under(actor, Household.objects.all(), node).filter(status=HouseholdStatus.ACTIVE), child
    ).annotate(n=Count("pk"))
    for r in households:
        row(r.get(child)).households += r["n"]

    # 8. households visited in the month per child.
    visited = _group(
        _rows_under(actor, Visit.objects.all(), node).filter(
            visited_on__gte=month, visited_on__lt=add_months(month, 1)
        ),
        child,
    ).annotate(n=Count("household_id", distinct=True))
    for r in visited if not from_summary else ():
        row(r.get(child)).visited += r["n"]

    # 8. the residents' survey: answers and their points per child and month.
    from .survey_models import SurveyResponse

    survey_trend: dict[str, list[float]] = {}
    answered = (
        _group(
            _rows_under(actor, SurveyResponse.objects.all(), node).filter(
                answered_on__gte=first, answered_on__lt=add_months(month, 1)
            ),
            child,
        )
        .annotate(m=TruncMonth("answered_on"))
        .values(*([child] if child else []), "m")
        .annotate(n=Count("pk"), pts=Sum("points"))
    )
    for r in answered:
        k = _key(r["m"])
        sums = survey_trend.setdefault(k, [0, 0.0])
        sums[0] += r["n"]
        sums[1] += float(r["pts"] or 0)
        if k == keys[-1]:
            target = row(r.get(child))
            target.survey_responses += r["n"]
            target.survey_points += float(r["pts"] or 0)

    _summarised(stored, node, month, live_from, rows, trends, sat_trend)
    total = Row()
    for r in rows.values():
        total.add(r)
    if from_summary:  # the node's own row: it also counts what lies under no child
        node_row = stored.get(node.pk, month)
        for name in summary.FIGURES:
            setattr(total, name, getattr(node_row, name) if node_row else 0)
    if not child:  # a plot: it is its own only row
        total.plots, total.plots_covered = (
            1,
            int(PlotAssignment.objects.filter(plot=node, ended_at__isnull=True).exists()),
        )

    outcomes = {
        name: Outcome(
            value=trends[name].get(keys[-1], 0),
            trend=[trends[name].get(k, 0) for k in keys],
            last_year=trends[name].get(last_year_key, 0),
        )
        for name in OUTCOMES
    }

    def sat(k: str) -> float | None:
        s, n = sat_trend.get(k, (0, 0))
        return _pct(s, n)

    outcomes["satisfaction"] = Outcome(
        value=sat(keys[-1]),
        trend=[sat(k) for k in keys],
        last_year=sat(last_year_key),
        rated=sat_trend.get(keys[-1], [0, 0])[1],
    )

    def survey_at(k: str) -> float | None:
        n, pts = survey_trend.get(k, (0, 0.0))
        return _survey_index(int(n), pts)

    outcomes["survey_index"] = Outcome(
        value=survey_at(keys[-1]),
        trend=[survey_at(k) for k in keys],
        last_year=survey_at(last_year_key),
        rated=int(survey_trend.get(keys[-1], [0, 0.0])[0]),
    )
    return Dashboard(
        node=node,
        month=month,
        months=keys,
        outcomes=outcomes,
        total=total,
        children=[(c, rows[c.pk]) for c in children],
        child_level=node.level + 1 if child else None,
        summarised_at=stored.refreshed_at,
    )


def _summarised(
    stored: Any,
    node: GridNode,
    month: dt.date,
    live_from: dt.date | None,
    rows: dict[int | None, Row],
    trends: dict[str, dict[str, int]],
    sat_trend: dict[str, list[int]],
) -> None:
    """Fill the trends' months before `live_from` from the node's summary rows, and, when the
    dashboard's month itself is summarised, the children's figures of that month from theirs."""
    from . import summary

    for i in range(TREND_MONTHS + 1):
        m = add_months(month, -i)
        if live_from is not None and m >= live_from:
            continue
        fig, k = stored.get(node.pk, m), _key(m)
        for name in OUTCOMES:
            trends[name][k] = getattr(fig, name) if fig else 0
        sat_trend[k] = [fig.satisfied, fig.rated] if fig else [0, 0]
    if live_from is None:
        for key, target in rows.items():
            fig = stored.get(key, month) if key is not None else None
            for name in summary.FIGURES:
                setattr(target, name, getattr(fig, name) if fig else 0)


def boundaries(dash: Dashboard) -> dict[str, Any]:
    """The children's stored boundaries as one GeoJSON FeatureCollection (names as keys for the map)."""
    features = []
    for node, _row in dash.children:
        geometry = node.boundary
        if isinstance(geometry, dict) and geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        features.append(
            {
                "type": "Feature",
                "id": node.pk,
                "properties": {"name": node.name, "id": node.pk},
                "geometry": geometry,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def month_choices(*, today: dt.date | None = None, count: int = 24) -> list[str]:
    this_month = (today or timezone.localdate()).replace(day=1)
    return [_key(add_months(this_month, -i)) for i in range(count)]


def last_day(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


# --- assessment ------------------------------------------------------------------------------------

from django.db.models import Prefetch, QuerySet  # noqa: E402

from .models import Line, Round, Scorecard, VetoHit  # noqa: E402


def rounds_visible(actor: User | AnonymousUser) -> QuerySet[Round]:
    """The rounds of the actor's city, for anyone holding a grid grant there."""
    if scoping.is_unrestricted(actor):
        return Round.objects.select_related("scheme")
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None or not scoping.grants(actor, VIEW):
        return Round.objects.none()
    return Round.objects.filter(tenant_id=tenant_id).select_related("scheme")


def scorecards_visible(actor: User | AnonymousUser) -> QuerySet[Scorecard]:
    """Scorecards of units in the actor's grid (a township sees its own, the city every one)."""
    nodes = scoping.scope_nodes(actor).values("pk")
    return (
        Scorecard.objects.filter(unit__in=nodes)
        .filter(round__in=rounds_visible(actor).values("pk"))
        .select_related("unit", "round", "round__scheme")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("indicator")),
            Prefetch("vetoes", queryset=VetoHit.objects.select_related("item")),
        )
    )


def scorecard_dict(card: Scorecard) -> dict[str, Any]:
    """A scorecard as plain data: its unit (the township, or the member department), lines and vetoes."""
    unit = card.unit if card.unit_id is not None else card.department
    assert unit is not None
    return {
        "id": card.pk,
        "unit": {"id": unit.pk, "name": unit.name, "code": unit.code},
        "households": card.households,
        "total": float(card.total),
        "insufficient": card.insufficient,
        "vetoed": card.vetoed,
        "rank": card.rank,
        "lines": [
            {
                "indicator": line.indicator_id,
                "name": line.indicator.name,
                "source": line.indicator.source,
                "weight": line.indicator.weight,
                "value": line.value,
                "basis": line.basis,
                "points": line.points,
                "weighted": float(line.weighted),
                "insufficient": line.insufficient,
                "note": line.note,
                "evidence": line.evidence,
            }
            for line in card.lines.all()
        ],
        "vetoes": [
            {
                "id": hit.pk,
                "item": hit.item_id,
                "name": hit.item.name,
                "rule": hit.item.rule,
                "count": hit.count,
                "evidence": hit.evidence,
                "status": hit.status,
                "appeal_reason": hit.appeal_reason,
                "decision_note": hit.decision_note,
            }
            for hit in card.vetoes.all()
        ],
    }


def round_snapshot(rnd: Round) -> dict[str, Any]:
    """Everything the round shows, as plain data (what publishing freezes): five queries."""
    scheme = rnd.scheme
    cards = (
        Scorecard.objects.filter(round=rnd, department__isnull=True)
        .select_related("unit")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("indicator")),
            Prefetch("vetoes", queryset=VetoHit.objects.select_related("item")),
        )
        .order_by(models_rank_order())
    )
    return {
        "scheme": {
            "id": scheme.pk,
            "name": scheme.name,
            "period_start": scheme.period_start.isoformat(),
            "period_end": scheme.period_end.isoformat(),
            "min_cases": scheme.min_cases,
            "min_households": scheme.min_households,
            "indicators": [
                {"id": i.pk, "name": i.name, "source": i.source, "weight": i.weight}
                for i in scheme.indicators.all()
            ],
            "vetoes": [
                {"id": v.pk, "name": v.name, "rule": v.rule, "threshold": v.threshold}
                for v in scheme.vetoes.all()
            ],
        },
        "scorecards": [scorecard_dict(c) for c in cards],
        "departments": department_cards(rnd),
    }


def department_cards(rnd: Round) -> list[dict[str, Any]]:
    from .work_reports import department_snapshot

    return department_snapshot(rnd)


def models_rank_order() -> Any:
    from django.db.models import F

    return F("rank").asc(nulls_last=True)


def round_view(actor: User | AnonymousUser, rnd: Round) -> dict[str, Any]:
    """A round as the actor may see it: the published snapshot once published (frozen), else the live
    rows; only the scorecards of units in the actor's grid."""
    data = rnd.snapshot if rnd.is_published and rnd.snapshot else round_snapshot(rnd)
    if scoping.is_unrestricted(actor):
        visible = None
    else:
        ids = {c["unit"]["id"] for c in data["scorecards"]}
        visible = set(scoping.scope_nodes(actor).filter(pk__in=ids).values_list("pk", flat=True))
    cards = [c for c in data["scorecards"] if visible is None or c["unit"]["id"] in visible]
    return {
        "id": rnd.pk,
        "name": rnd.name,
        "status": rnd.status,
        "computed_at": rnd.computed_at.isoformat() if rnd.computed_at else None,
        "published_at": rnd.published_at.isoformat() if rnd.published_at else None,
        "scheme": _split_indicators(data["scheme"]),
        "scorecards": cards,
        "departments": visible_departments(actor, rnd, data.get("departments", [])),
    }


def _split_indicators(scheme: dict[str, Any]) -> dict[str, Any]:
    """The townships' indicators under `indicators`, the member departments' under their own key."""
    from .models import DEPARTMENT_SOURCES

    everything = scheme.get("indicators", [])
    return {
        **scheme,
        "indicators": [i for i in everything if i["source"] not in DEPARTMENT_SOURCES],
        "department_indicators": [i for i in everything if i["source"] in DEPARTMENT_SOURCES],
    }


def visible_departments(actor: User | AnonymousUser, rnd: Round, cards: list[dict[str, Any]]) -> list[Any]:
    from .work_reports import department_cards_for

    return department_cards_for(actor, rnd, cards)


def evidence_cases(actor: User | AnonymousUser, ids: list[int]) -> QuerySet[Case]:
    """The cases behind a line or a veto, those the actor may see (cases' own selector)."""
    from cases.selectors import cases_visible

    return cases_visible(actor).filter(pk__in=ids).order_by("created_at", "pk")
