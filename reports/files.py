"""Cadre performance files (实绩档案) and responsibility tracing (责任倒查): issue 13, item 3.

Responsibility tracing reads one case's timeline (one query) and says who held the case from when to
when: the dispatching tier while the case waits to be dispatched, verified or a dispute decided; the
responsible unit and person while it is with them; nobody once it is closed. Each stretch carries its
duration in hours and in working hours on the city's calendar (its working hours and holidays).

A performance file is one cadre's year: the cases they were the responsible person of that were open
at some time in the year (handled, closed in the year on time or late, still open, gone overdue in
the year), the yellow and red supervision cards against them, their units' published assessment
results and their departments' work reports, in a fixed number of queries whatever the number of
cases. Who may read a file (the one rule of `grids.scoping`): whoever sees the whole city reads
every cadre of the city; a grid grant reads the cadres whose home node or whose unit's node lies in
it; everyone reads their own. Anyone else gets the same 404 as for a missing person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import calendar
from cases import selectors as case_selectors
from cases.models import (
    EVENT_LABELS,
    AlertLevel,
    Case,
    CaseEvent,
    DeadlineAlert,
    Grade,
    OrderStatus,
    Status,
    SupervisionOrder,
    Tier,
)
from grids import scoping
from grids.models import GridNode, Level
from teams.models import Membership, Unit, UnitKind, User

from .models import RoundStatus, Scorecard, WorkReport
from .work_reports import city_wide

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


# --- responsibility tracing ------------------------------------------------------------------------

TIER_HOLDS = (Status.REGISTERED, Status.DISPUTED, Status.RESOLVED)  # the tier's move, not the unit's
FINISHED = (Status.CLOSED, Status.MERGED)
HOLDER_EVENTS = ("dispatch", "transfer", "decide", "confirm")


@dataclass
class Hold:
    """One stretch of a case in one pair of hands."""

    holder: str  # "tier" (the dispatching platform) or "unit"
    tier: str
    unit_id: int | None
    unit_name: str
    person_id: int | None
    person_name: str
    status: str
    start: dt.datetime
    end: dt.datetime | None  # None: still holding
    began_with: str
    ended_with: str = ""
    seconds: int = 0
    working_minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.seconds / 3600, 2)

    @property
    def working_hours(self) -> float:
        return round(self.working_minutes / 60, 2)

    @property
    def tier_label(self) -> str:
        return str(Tier(self.tier).label) if self.tier in Tier.values else self.tier

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label) if self.status in Status.values else self.status

    @property
    def began_label(self) -> str:
        return str(EVENT_LABELS.get(self.began_with, self.began_with))

    @property
    def ended_label(self) -> str:
        return str(EVENT_LABELS.get(self.ended_with, self.ended_with)) if self.ended_with else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "tier": self.tier,
            "unit": {"id": self.unit_id, "name": self.unit_name} if self.holder == "unit" else None,
            "person": {"id": self.person_id, "name": self.person_name} if self.person_name else None,
            "status": self.status,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "began_with": self.began_with,
            "ended_with": self.ended_with,
            "seconds": self.seconds,
            "hours": self.hours,
            "working_minutes": self.working_minutes,
            "working_hours": self.working_hours,
        }


@dataclass
class Tracing:
    case: Case
    holds: list[Hold]
    now: dt.datetime

    def totals(self) -> list[dict[str, Any]]:
        """Per holder (the tier, or a unit and person): how long they held the case in all."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for h in self.holds:
            key = (
                ("tier", h.tier, None, "")
                if h.holder == "tier"
                else ("unit", h.unit_id or h.unit_name, h.person_id, h.person_name)
            )
            row = out.setdefault(
                key,
                {"holder": h.holder, "tier": h.tier, "unit": h.unit_name if h.holder == "unit" else "",
                 "person": h.person_name, "seconds": 0, "working_minutes": 0, "times": 0},
            )  # fmt: skip
            row["seconds"] += h.seconds
            row["working_minutes"] += h.working_minutes
            row["times"] += 1
        for row in out.values():
            row["hours"] = round(row["seconds"] / 3600, 2)
            row["working_hours"] = round(row["working_minutes"] / 60, 2)
        return sorted(out.values(), key=lambda r: -r["working_minutes"])


def _initial_tier(case: Case, events: list[CaseEvent]) -> str:
    for e in events:
        if e.action == "escalate" and (e.data or {}).get("from_tier"):
            return str(e.data["from_tier"])
    return case.tier


def trace(case: Case, *, now: dt.datetime | None = None, events: list[CaseEvent] | None = None) -> Tracing:
    """Who held `case` (fetched in scope by the caller) at each moment: one query for the timeline,
    two for the city's calendar, one more only for events older than the holder ids (by unit name)."""
    now = now or timezone.now()
    if events is None:
        events = list(case_selectors.case_timeline(case))
    cal = calendar.load(case.tenant_id, settings.TIME_ZONE, case.created_at)
    # Events written before the ids were recorded name the unit only: read those units by name.
    names = {
        str(e.data.get("unit"))
        for e in events
        if e.action in HOLDER_EVENTS
        and isinstance(e.data, dict)
        and "unit_id" not in e.data
        and e.data.get("unit")
    }
    by_name = (
        dict(Unit.objects.filter(tenant_id=case.tenant_id, name__in=sorted(names)).values_list("name", "pk"))
        if names
        else {}
    )
    tier = _initial_tier(case, events)
    unit_id: int | None = None
    unit_name = ""
    person_id: int | None = None
    person_name = ""
    status = ""
    holds: list[Hold] = []
    current: Hold | None = None
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        if e.action in HOLDER_EVENTS:
            unit_name = str(data.get("unit") or unit_name)
            unit_id = data.get("unit_id") if "unit_id" in data else by_name.get(unit_name)
            if e.action != "confirm" or "person" in data:
                person_name = str(data.get("person") or "")
                person_id = data.get("person_id") if person_name else None
        elif e.action == "accept" and not person_name and e.actor is not None:
            person_id, person_name = e.actor_id, str(e.actor)
        elif e.action == "return":
            unit_id, unit_name, person_id, person_name = None, "", None, ""
        elif e.action == "escalate":
            tier = str(data.get("to_tier") or tier)
            unit_id, unit_name, person_id, person_name = None, "", None, ""
        status = e.to_status or status
        key: tuple[Any, ...] | None
        if status in FINISHED:
            key = None
        elif status in TIER_HOLDS or unit_name == "":
            key = ("tier", tier, None, None, status)
        else:
            key = ("unit", tier, unit_id or unit_name, person_id or person_name, status)
        cur_key: tuple[Any, ...] | None = None
        if current is not None:
            cur_key = (
                ("tier", current.tier, None, None, current.status)
                if current.holder == "tier"
                else ("unit", current.tier, current.unit_id or current.unit_name,
                      current.person_id or current.person_name, current.status)
            )  # fmt: skip
        if key == cur_key:
            continue
        if current is not None:
            current.end, current.ended_with = e.at, e.action
            holds.append(current)
            current = None
        if key is None:
            continue
        at_tier = key[0] == "tier"
        current = Hold(
            holder=key[0], tier=tier, unit_id=None if at_tier else unit_id, unit_name="" if at_tier else unit_name,
            person_id=None if at_tier else person_id, person_name="" if at_tier else person_name,
            status=status, start=e.at, end=None, began_with=e.action,
        )  # fmt: skip
    if current is not None:
        holds.append(current)
    for h in holds:
        until = h.end or now
        h.seconds = max(0, int((until - h.start).total_seconds()))
        h.working_minutes = cal.minutes_between(h.start, until)
    return Tracing(case=case, holds=holds, now=now)


# --- who may read whose file ---------------------------------------------------------------------


def cadres_visible(actor: User | AnonymousUser) -> QuerySet[User]:
    """The people whose performance file the actor may read (see the module docstring)."""
    qs = User.objects.select_related("home_node")
    if scoping.is_unrestricted(actor):
        return qs.filter(tenant__isnull=False)
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None or not (actor.is_authenticated and actor.is_active):
        return qs.none()
    qs = qs.filter(tenant_id=tenant_id)
    if city_wide(actor):
        return qs
    mine = Q(pk=actor.pk)
    q = scoping.nodes_filter(actor, scoping.VIEW)
    if q is None:
        return qs.filter(mine)
    nodes = GridNode.objects.filter(q).values("pk")
    in_unit = Membership.objects.filter(user=OuterRef("pk"), unit__node__in=nodes)
    return qs.filter(mine | Q(home_node__in=nodes) | Q(Exists(in_unit)))


def cadre_get(actor: User | AnonymousUser, pk: Any) -> User:
    return scoping.get_in_scope_or_404(cadres_visible(actor), pk=pk)


PAGE = 50


def cadre_page(actor: User | AnonymousUser, *, after: str = "", search: str = "") -> list[User]:
    """A page of the cadres in scope, by user name (keyset: after the last name shown)."""
    qs = cadres_visible(actor).filter(is_active=True)
    if search:
        qs = qs.filter(Q(full_name__icontains=search) | Q(username__icontains=search))
    if after:
        qs = qs.filter(username__gt=after)
    return list(qs.order_by("username")[:PAGE])


# --- the performance file ------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


@dataclass
class CaseRow:
    case: Case
    closed_in_year: bool
    late: bool
    overdue_in_year: bool

    @property
    def outcome(self) -> str:
        if self.case.status == Status.CLOSED and self.closed_in_year:
            return "late" if self.late else "on_time"
        return "open" if self.case.status not in FINISHED else "closed_before"

    @property
    def outcome_label(self) -> Any:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


OUTCOME_LABELS = {
    "on_time": _("closed on time"),
    "late": _("closed late"),
    "open": _("still open"),
    "closed_before": _("closed"),
}


@dataclass
class PerformanceFile:
    person: User
    year: int
    cases: list[CaseRow]
    orders: list[SupervisionOrder]
    yellow_cards: int
    red_cards: int
    units: list[Unit]
    results: list[Scorecard]
    work_reports: list[WorkReport]
    counts: dict[str, int] = field(default_factory=dict)


def performance_file(actor: User | AnonymousUser, person: User, year: int) -> PerformanceFile:
    """The file of `person` (fetched through `cadre_get`) for `year`. Queries, whatever the number of
    cases: 1. the cases (with whether each went overdue), 2. the card counts (`cards_by_person`),
    3. the card rows, 4. the person's units, 5. the townships of their grid, 6. the published
    scorecards of those townships and departments, 7. the departments' work reports of the year; plus
    what the cases' and orders' scoping reads about the actor (their units and assisted cases)."""
    start, end = year_bounds(year)
    tenant_id = person.tenant_id or 0
    red = DeadlineAlert.objects.filter(case=OuterRef("pk"), level__gte=AlertLevel.RED)
    # 1. cases of which the person is the responsible person, open at some time in the year.
    rows = list(
        case_selectors.cases_visible(actor)
        .filter(tenant_id=tenant_id, responsible_person=person, created_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .exclude(status=Status.MERGED)
        .annotate(
            went_red=Exists(red), red_in_year=Exists(red.filter(created_at__gte=start, created_at__lt=end))
        )
        .select_related("responsible_unit", "node")
        .order_by("created_at", "pk")
    )
    cases = [
        CaseRow(
            case=c,
            closed_in_year=bool(c.closed_at and start <= c.closed_at < end),
            late=bool(c.went_red),  # type: ignore[attr-defined]
            overdue_in_year=bool(c.red_in_year),  # type: ignore[attr-defined]
        )
        for c in rows
    ]
    # 2. the cards against the person in the year, counted by the supervision selector.
    counted = (
        case_selectors.cards_by_person(actor, since=start)
        .filter(person_id=person.pk, created_at__lt=end)
        .first()
    )
    # 3. the cards themselves (the rows behind the counts).
    orders = list(
        case_selectors.orders_visible(actor)
        .filter(
            person_id=person.pk,
            grade__in=[Grade.YELLOW, Grade.RED],
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(status=OrderStatus.WITHDRAWN)
        .select_related("case", "unit")
        .order_by("created_at", "pk")
    )
    # 4. the person's units.
    units = [
        m.unit
        for m in Membership.objects.filter(user=person, unit__tenant_id=tenant_id)
        .select_related("unit", "unit__node")
        .order_by("unit__code")
    ]
    # 5. the townships of the person's home node and units' nodes.
    nodes = [n for n in [person.home_node, *(u.node for u in units)] if n is not None]
    townships: list[int] = [n.pk for n in nodes if n.level == Level.TOWNSHIP]
    above = [n for n in nodes if n.level > Level.TOWNSHIP]
    if above:
        q = Q(pk__in=[])
        for n in above:
            q |= scoping.ancestors_q(n)
        townships += list(GridNode.objects.filter(q, level=Level.TOWNSHIP).values_list("pk", flat=True))
    departments = [u.pk for u in units if u.kind == UnitKind.DEPARTMENT]
    # 6. the published results of those townships and departments in rounds covering the year.
    results = list(
        Scorecard.objects.filter(
            tenant_id=tenant_id, round__status=RoundStatus.PUBLISHED,
            round__scheme__period_start__lt=end.date(), round__scheme__period_end__gte=start.date(),
        )
        .filter(Q(unit_id__in=sorted(set(townships))) | Q(department_id__in=departments))
        .select_related("round", "round__scheme", "unit", "department")
        .order_by("round__scheme__period_start", "round_id", "pk")
    )  # fmt: skip
    # 7. the departments' work reports of the year.
    reports = list(
        WorkReport.objects.filter(unit_id__in=departments, year=year)
        .select_related("unit")
        .order_by("unit__code")
        if departments
        else []
    )
    counts = {
        "handled": len(cases),
        "closed": sum(1 for r in cases if r.outcome in ("on_time", "late")),
        "on_time": sum(1 for r in cases if r.outcome == "on_time"),
        "late": sum(1 for r in cases if r.outcome == "late"),
        "open": sum(1 for r in cases if r.outcome == "open"),
        "overdue": sum(1 for r in cases if r.overdue_in_year),
        "yellow_cards": counted["yellow"] if counted else 0,
        "red_cards": counted["red"] if counted else 0,
    }
    return PerformanceFile(
        person=person, year=year, cases=cases, orders=orders, yellow_cards=counts["yellow_cards"],
        red_cards=counts["red_cards"], units=units, results=results, work_reports=reports, counts=counts,
    )  # fmt: skip


def file_payload(f: PerformanceFile) -> dict[str, Any]:
    return {
        "person": {"id": f.person.pk, "name": str(f.person), "username": f.person.username,
                   "home_node": f.person.home_node.name if f.person.home_node else None},
        "year": f.year,
        "counts": f.counts,
        "units": [{"id": u.pk, "name": u.name, "kind": u.kind} for u in f.units],
        "cases": [
            {"id": r.case.pk, "number": r.case.number, "title": r.case.title, "kind": r.case.kind,
             "status": r.case.status, "unit": r.case.responsible_unit.name if r.case.responsible_unit else None,
             "created_at": r.case.created_at.isoformat(),
             "closed_at": r.case.closed_at.isoformat() if r.case.closed_at else None,
             "outcome": r.outcome, "overdue_in_year": r.overdue_in_year}
            for r in f.cases
        ],
        "cards": [
            {"id": o.pk, "grade": o.grade, "status": o.status, "case": o.case_id, "case_title": o.about_title,
             "unit": o.unit.name if o.unit else None, "created_at": o.created_at.isoformat()}
            for o in f.orders
        ],
        "results": [
            {"scorecard": s.pk, "round": s.round.name, "scheme": s.round.scheme.name,
             "unit": (s.unit.name if s.unit else s.department.name if s.department else ""),
             "kind": "department" if s.department_id else "township",
             "total": float(s.total), "rank": s.rank, "vetoed": s.vetoed, "insufficient": s.insufficient}
            for s in f.results
        ],
        "work_reports": [
            {"id": w.pk, "unit": w.unit.name, "status": w.status,
             "score": float(w.score) if w.score is not None else None}
            for w in f.work_reports
        ],
    }  # fmt: skip


def parse_year(value: Any, *, today: dt.date | None = None) -> int:
    """A year from 2000 to this year; empty means this year; anything else is a ValueError."""
    this_year = (today or timezone.localdate()).year
    if value in (None, ""):
        return this_year
    year = int(str(value))
    if not 2000 <= year <= this_year:
        raise ValueError(value)
    return year
