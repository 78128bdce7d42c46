"""Every read of cases, already scoped: grid grants over the ancestor columns, or the department's cases.

A user sees the cases under the nodes where they hold `view_gridnode` (ancestor columns, one
indexed filter), plus the cases sent to a unit they work in (as responsible or assisting
unit) anywhere in their city. Always AND their tenant.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids import selectors as grid_selectors
from grids.models import GridNode, Level
from grids.registry import selectors as registry_selectors
from grids.registry.models import Resident
from grids.registry.models import Status as RegistryStatus
from teams.models import Unit, UnitKind, User, Visit
from teams.selectors import visits_visible
from teams.units import unit_ids_of, units_of, units_visible

from . import rules
from .models import (
    OPEN_STATUSES,
    TIER_LEVEL,
    TIMED_STATUSES,
    CalendarDay,
    Case,
    CaseAttachment,
    CaseEvent,
    CasePart,
    PartStatus,
    Status,
    TimePolicy,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

VIEW = scoping.VIEW
# The columns a list row shows: the page query reads these only (no descriptions, no JSON).
LIST_FIELDS = (
    "id",
    "tenant_id",
    "node_id",
    "node__name",
    "kind",
    "sub_kind",
    "severity",
    "title",
    "status",
    "tier",
    "responsible_unit_id",
    "responsible_unit__name",
    "responsible_person_id",
    "responsible_person__full_name",
    "responsible_person__username",
    "due_at",
    "alert_level",
    "created_at",
    "version",
)


def visibility(user: User | AnonymousUser) -> Q | None:
    """The Q for cases the user may see, or None when they may see none."""
    if scoping.is_unrestricted(user):
        return Q()
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return None
    grid = scoping.rows_filter(user, VIEW)
    # An office only ever handles cases inside its own grid (the services enforce it), so the units
    # whose grid the user already sees add nothing: leaving them out keeps the plan a single scan of
    # the ancestor index. Departments (no grid) and offices elsewhere are added by id.
    unit_ids = sorted(
        unit.pk for unit in units_of(user) if unit.node is None or not scoping.can(user, VIEW, unit.node)
    )
    if unit_ids:
        by_unit = _unit_q(unit_ids)
        combined = by_unit if grid is None else (grid | by_unit)
    elif grid is None:
        return None
    else:
        combined = grid
    return Q(tenant_id=user.tenant_id) & combined


def _unit_q(unit_ids: list[int]) -> Q:
    """Cases led by or assisted by these units. The assisted case ids are read first (one query) so
    that PostgreSQL can OR two index scans instead of probing a subquery for every row."""
    assisted = list(CasePart.objects.filter(unit_id__in=unit_ids).values_list("case_id", flat=True))
    q = Q(responsible_unit_id__in=unit_ids)
    return q | Q(pk__in=assisted) if assisted else q


def cases_visible(user: User | AnonymousUser) -> QuerySet[Case]:
    q = visibility(user)
    qs = Case.objects.all()
    return qs.none() if q is None else qs.filter(q)


# --- the workbench's queues -----------------------------------------------------------------------
#
# Each queue is one filter, used both for the workbench's count and for the list the count opens, so
# the two always agree. Every filter is already scoped (tenant AND the user's grants, units or self)
# and lands on a partial index of open cases (`cases_open_by_*`) or on the reporter/person indexes.

MANAGED, UNIT_LED, ASSISTING, MINE, MY_PLOTS = "managed", "unit", "assisting", "mine", "my_plots"


@dataclass(frozen=True)
class Queue:
    label: Any
    whose: str  # MANAGED, UNIT_LED, ASSISTING, MINE or MY_PLOTS
    tone: str = ""


def _near_q(now: dt.datetime) -> Q:
    return Q(status__in=TIMED_STATUSES, due_at__gt=now, yellow_at__lte=now)


def _overdue_q(now: dt.datetime) -> Q:
    return Q(status__in=TIMED_STATUSES, due_at__lte=now)


QUEUES: dict[str, Queue] = {
    "to_dispatch": Queue(_("to dispatch"), MANAGED),
    "returned": Queue(_("returned by the unit"), MANAGED, "warn"),
    "to_verify": Queue(_("to verify"), MANAGED),
    "near": Queue(_("deadline near"), MANAGED, "warn"),
    "overdue": Queue(_("overdue"), MANAGED, "danger"),
    "unit_new": Queue(_("sent to my unit, not yet accepted"), UNIT_LED),
    "unit_in_hand": Queue(_("in hand"), UNIT_LED),
    "unit_near": Queue(_("deadline near"), UNIT_LED, "warn"),
    "unit_overdue": Queue(_("overdue"), UNIT_LED, "danger"),
    "assisting": Queue(_("assisting parts open"), ASSISTING),
    "mine": Queue(_("my open cases"), MINE),
    "my_plots": Queue(_("open cases in my plots"), MY_PLOTS),
}


_GROUP_OF = {MANAGED: "tier", UNIT_LED: "unit", ASSISTING: "unit", MINE: "mine", MY_PLOTS: "mine"}
_GROUP_LABELS = {"tier": _("My tier"), "unit": _("My unit"), "mine": _("Mine")}


def queue_choices() -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The queues as grouped choices for the list's filter (the same label may appear in two groups)."""
    groups: dict[str, tuple[Any, list[tuple[str, Any]]]] = {}
    for name, queue in QUEUES.items():
        key = _GROUP_OF[queue.whose]
        groups.setdefault(key, (_GROUP_LABELS[key], []))[1].append((name, queue.label))
    return list(groups.values())


def _queue_state(name: str, now: dt.datetime) -> Q:
    return {
        "to_dispatch": Q(status=Status.REGISTERED, returned_at__isnull=True),
        "returned": Q(status=Status.REGISTERED, returned_at__isnull=False),
        "to_verify": Q(status=Status.RESOLVED),
        "near": _near_q(now),
        "overdue": _overdue_q(now),
        "unit_new": Q(status=Status.DISPATCHED),
        "unit_in_hand": Q(status__in=[Status.IN_HAND, Status.PAUSED]),
        "unit_near": _near_q(now),
        "unit_overdue": _overdue_q(now),
    }.get(name, Q(status__in=OPEN_STATUSES))


def managed_q(user: User | AnonymousUser) -> Q | None:
    """Cases the user handles as the dispatching platform: under a node where they hold manage_cases,
    at that node's tier or below (as `rules.is_manager` decides for one case). None: none."""
    if scoping.is_unrestricted(user):
        return Q()
    found = scoping.grants(user, rules.MANAGE_CASES)
    if not found:
        return None
    q = Q()
    for grant in found:
        tiers = [tier for tier, level in TIER_LEVEL.items() if level >= grant.level]
        q |= Q(**{scoping.LEVEL_COLUMN[Level(grant.level)]: grant.node_id}, tier__in=tiers)
    return Q(tenant_id=user.tenant_id) & q


_PLOTS_CACHE_ATTR = "_my_plots_cache"


def my_plots(user: User | AnonymousUser) -> list[tuple[int, str]]:
    """(id, name) of the plots this person is responsible for (定人) in their city: one query, cached
    on the user object for the request."""
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return []
    cached = user.__dict__.get(_PLOTS_CACHE_ATTR)
    if cached is None:
        cached = list(
            GridNode.objects.filter(tenant_id=user.tenant_id, responsible_id=user.pk, level=Level.PLOT)
            .order_by("tree_id", "lft")
            .values_list("pk", "name")
        )
        user.__dict__[_PLOTS_CACHE_ATTR] = cached
    return cached


def queue_q(user: User | AnonymousUser, name: str, now: dt.datetime | None = None) -> Q | None:
    """The filter of one workbench queue for this user (already scoped), or None when it is empty."""
    queue = QUEUES.get(name)
    if queue is None or not (user.is_authenticated and user.is_active):
        return None
    now = now or timezone.now()
    state = _queue_state(name, now)
    tenant = Q() if scoping.is_unrestricted(user) else Q(tenant_id=user.tenant_id)
    if queue.whose == MANAGED:
        who = managed_q(user)
    elif queue.whose == UNIT_LED:
        ids = sorted(unit_ids_of(user))
        who = tenant & Q(responsible_unit_id__in=ids) if ids else None
    elif queue.whose == ASSISTING:
        ids = sorted(unit_ids_of(user))
        open_parts = CasePart.objects.filter(unit_id__in=ids, status=PartStatus.OPEN).values("case_id")
        who = tenant & Q(pk__in=open_parts) if ids else None
    elif queue.whose == MINE:
        who = tenant & (Q(reporter_id=user.pk) | Q(responsible_person_id=user.pk))
    else:
        plots = [pk for pk, _name in my_plots(user)]
        grid = scoping.rows_filter(user, VIEW)
        who = grid & Q(plot_id__in=plots) if plots and grid is not None else None
    return None if who is None else who & state


def queue_count(user: User | AnonymousUser, name: str, now: dt.datetime | None = None) -> int:
    """One queue's count: one COUNT over a partial index of open cases."""
    q = queue_q(user, name, now)
    return 0 if q is None else Case.objects.filter(q).count()


# --- the case list --------------------------------------------------------------------------------

SEARCH_MAX = 100
_NUMBER = re.compile(r"^(?:\d{8}-)?(\d{1,12})$")


def search_q(text: str) -> Q:
    """A keyword over number, title, description and the parties' names (never their phones)."""
    text = text.strip()
    q = Q(title__icontains=text) | Q(description__icontains=text) | Q(party_names__icontains=text)
    number = _NUMBER.match(text)
    if number:
        q |= Q(pk=int(number.group(1)))
    return q


def case_list(
    user: User | AnonymousUser,
    *,
    view: str = "all",
    kind: str = "",
    status: str = "",
    node: GridNode | None = None,
    due_before: dt.date | None = None,
    overdue: bool = False,
    open_only: bool = False,
    queue: str = "",
    q: str = "",
) -> QuerySet[Case]:
    """The case list of one of the three views (mine, my unit's, all in scope), filtered, newest first.

    `queue` narrows to one of the workbench's queues (the same filter its count used); `q` is a
    keyword (`search_q`)."""
    qs = cases_visible(user)
    if queue:
        queue_filter = queue_q(user, queue)
        qs = qs.none() if queue_filter is None else qs.filter(queue_filter)
    if q.strip():
        qs = qs.filter(search_q(q))
    if view == "mine":
        qs = qs.filter(Q(responsible_person_id=user.pk) | Q(reporter_id=user.pk))
    elif view == "unit":
        qs = qs.filter(_unit_q(sorted(unit_ids_of(user))))
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if node is not None:
        qs = qs.filter(**{scoping.LEVEL_COLUMN[Level(node.level)]: node.pk})
    if due_before:
        qs = qs.filter(due_at__date__lte=due_before)
    if overdue:
        qs = qs.filter(status__in=TIMED_STATUSES, due_at__lt=timezone.now())
    if open_only:
        qs = qs.exclude(status__in=["closed", "merged"])
    return (
        qs.select_related("node", "responsible_unit", "responsible_person")
        .only(*LIST_FIELDS)
        .order_by("-created_at", "-id")
    )


def case_detail_queryset(user: User | AnonymousUser) -> QuerySet[Case]:
    """Cases in scope with everything the case page shows (one query each for parts and attachments)."""
    return (
        cases_visible(user)
        .select_related(
            "node", "responsible_unit", "responsible_person", "reporter", "dispatched_by", "merged_into"
        )
        .prefetch_related(
            Prefetch("parts", queryset=CasePart.objects.select_related("unit", "done_by").order_by("id")),
            Prefetch(
                "attachments", queryset=CaseAttachment.objects.select_related("uploaded_by").order_by("id")
            ),
        )
    )


def case_get(user: User | AnonymousUser, pk: Any) -> Case:
    """One case in scope, or the same 404 for missing and not yours."""
    return scoping.get_in_scope_or_404(case_detail_queryset(user), pk=pk)


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    """The timeline of a case the caller has already fetched in scope."""
    return (
        CaseEvent.objects.filter(case_id=case.pk, tenant_id=case.tenant_id)
        .select_related("actor")
        .order_by("at", "id")
    )


def attachment_get(user: User | AnonymousUser, case_pk: Any, pk: Any) -> CaseAttachment:
    case = scoping.get_in_scope_or_404(cases_visible(user), pk=case_pk)
    return scoping.get_in_scope_or_404(CaseAttachment.objects.filter(case_id=case.pk), pk=pk)


def node_for_filter(user: User | AnonymousUser, pk: Any) -> GridNode | None:
    """A grid node of the user's city to narrow a list by (the list stays limited to what they see)."""
    qs = (
        GridNode.objects.all()
        if scoping.is_unrestricted(user)
        else GridNode.objects.filter(tenant_id=getattr(user, "tenant_id", None))
    )
    try:
        return qs.get(pk=pk)
    except (GridNode.DoesNotExist, ValueError, TypeError):
        return None


def recordable_nodes(user: User | AnonymousUser) -> QuerySet[GridNode]:
    """Grid nodes where the user may record cases, in tree order."""
    return scoping.scope_nodes(user, "record_case").order_by("tree_id", "lft")


TEAM_KINDS = (UnitKind.SERVICE_TEAM, UnitKind.LEADERSHIP_GROUP)


def unit_choices(user: User | AnonymousUser) -> QuerySet[Unit]:
    """Active units of the user's city a case can be sent to: departments and offices, never a service
    team or a leadership group (their people work through their office)."""
    return units_visible(user).filter(is_active=True).exclude(kind__in=TEAM_KINDS)


def unit_choices_for(user: User | AnonymousUser, case: Case) -> QuerySet[Unit]:
    """Units that may take this case: the city's departments and the offices of the case's grids."""
    grids = [pk for pk in (case.city_id, case.township_id, case.cell_id, case.plot_id) if pk]
    return unit_choices(user).filter(Q(node__isnull=True) | Q(node_id__in=grids))


def unit_get(user: User | AnonymousUser, pk: Any) -> Unit | None:
    try:
        return unit_choices(user).get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        return None


def person_get(user: User | AnonymousUser, pk: Any) -> User | None:
    """A person of the user's city (membership of the chosen unit is checked by the service)."""
    if pk in (None, ""):
        return None
    qs = (
        User.objects.all()
        if scoping.is_unrestricted(user)
        else User.objects.filter(tenant_id=getattr(user, "tenant_id", None))
    )
    try:
        return qs.get(pk=pk, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        return None


def unit_people(user: User | AnonymousUser) -> QuerySet[User]:
    """People working in the user's city's units (for choosing a responsible person)."""
    if scoping.is_unrestricted(user):
        return User.objects.filter(memberships__isnull=False).distinct().order_by("username")
    return (
        User.objects.filter(memberships__unit__tenant_id=getattr(user, "tenant_id", None), is_active=True)
        .distinct()
        .order_by("username")
    )


def merge_target_get(user: User | AnonymousUser, pk: Any) -> Case | None:
    try:
        return cases_visible(user).get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        return None


def policies_visible(user: User | AnonymousUser) -> QuerySet[TimePolicy]:
    if scoping.is_unrestricted(user):
        return TimePolicy.objects.all()
    return TimePolicy.objects.filter(tenant_id=getattr(user, "tenant_id", None))


def calendar_days_visible(user: User | AnonymousUser) -> QuerySet[CalendarDay]:
    if scoping.is_unrestricted(user):
        return CalendarDay.objects.all()
    return CalendarDay.objects.filter(tenant_id=getattr(user, "tenant_id", None))


def working_hours_visible(user: User | AnonymousUser) -> QuerySet[WorkingHours]:
    if scoping.is_unrestricted(user):
        return WorkingHours.objects.all()
    return WorkingHours.objects.filter(tenant_id=getattr(user, "tenant_id", None))


def supervision_policies_visible(user: User | AnonymousUser) -> QuerySet[SupervisionPolicy]:
    if scoping.is_unrestricted(user):
        return SupervisionPolicy.objects.all()
    return SupervisionPolicy.objects.filter(tenant_id=getattr(user, "tenant_id", None))


# --- supervision orders ---------------------------------------------------------------------------

from django.db.models import Count  # noqa: E402

from .models import Grade, OrderStatus, SupervisionOrder, SupervisionPolicy, WorkingHours  # noqa: E402


def orders_visible(user: User | AnonymousUser) -> QuerySet[SupervisionOrder]:
    """Orders on cases under the user's grid grants, plus the orders addressed to their units."""
    if scoping.is_unrestricted(user):
        return SupervisionOrder.objects.all()
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return SupervisionOrder.objects.none()
    grid = scoping.rows_filter(user, VIEW)
    mine = Q(unit_id__in=sorted(unit_ids_of(user))) | Q(person_id=user.pk)
    q = mine if grid is None else (grid | mine)
    return SupervisionOrder.objects.filter(Q(tenant_id=user.tenant_id) & q)


def order_list(
    user: User | AnonymousUser,
    *,
    status: str = "",
    grade: int | None = None,
    tier: str = "",
    township: int | None = None,
    unit: int | None = None,
) -> QuerySet[SupervisionOrder]:
    qs = orders_visible(user)
    if status:
        qs = qs.filter(status=status)
    if grade:
        qs = qs.filter(grade=grade)
    if tier:
        qs = qs.filter(tier=tier)
    if township:
        qs = qs.filter(township_id=township)
    if unit:
        qs = qs.filter(unit_id=unit)
    return qs.select_related("case", "unit", "person", "township").order_by("-created_at", "-id")


def order_get(user: User | AnonymousUser, pk: Any) -> SupervisionOrder:
    """One order in scope, or the same 404 for missing and not yours."""
    return scoping.get_in_scope_or_404(
        orders_visible(user).select_related(
            "case", "unit", "person", "issued_by", "replied_by", "reviewed_by"
        ),
        pk=pk,
    )


def orders_addressed_to_me(user: User | AnonymousUser) -> QuerySet[SupervisionOrder]:
    """Orders addressed to one of the user's units or to the user as the responsible person."""
    if not (user.is_authenticated and user.is_active) or user.tenant_id is None:
        return SupervisionOrder.objects.none()
    mine = Q(unit_id__in=sorted(unit_ids_of(user))) | Q(person_id=user.pk)
    return SupervisionOrder.objects.filter(Q(tenant_id=user.tenant_id) & mine)


def issuing_tiers(user: User | AnonymousUser) -> list[tuple[str, int]]:
    """(tier, grid node) of each city or township where the user manages cases: the tiers whose
    orders they issue and whose replies they review."""
    from .rules import MANAGE_CASES

    tiers = []
    for grant in scoping.grants(user, MANAGE_CASES):
        if grant.level == Level.CITY:
            tiers.append(("city", grant.node_id))
        elif grant.level == Level.TOWNSHIP:
            tiers.append(("township", grant.node_id))
    return tiers


def orders_of_my_tier(user: User | AnonymousUser) -> QuerySet[SupervisionOrder]:
    """Orders issued by the user's tier in their grid (the city's or their township's), over the
    ancestor column of that tier (indexed with the tenant)."""
    tiers = issuing_tiers(user)
    if not tiers:
        return SupervisionOrder.objects.none()
    q = Q()
    for tier, node_id in tiers:
        q |= Q(tier=tier, city_id=node_id) if tier == "city" else Q(tier=tier, township_id=node_id)
    return SupervisionOrder.objects.filter(Q(tenant_id=user.tenant_id) & q)


def case_orders(case: Case) -> QuerySet[SupervisionOrder]:
    """The orders of a case the caller has already fetched in scope."""
    return SupervisionOrder.objects.filter(case_id=case.pk, tenant_id=case.tenant_id).select_related("unit")


CARDS = (Grade.YELLOW, Grade.RED)


def cards_by_unit(user: User | AnonymousUser, *, since: dt.datetime) -> QuerySet[Any]:
    """Per unit: the yellow and red cards received since `since` (reports read these counts)."""
    return (
        orders_visible(user)
        .filter(created_at__gte=since, grade__in=CARDS, unit__isnull=False)
        .exclude(status=OrderStatus.WITHDRAWN)
        .values("unit_id", "unit__name")
        .annotate(
            yellow=Count("pk", filter=Q(grade=Grade.YELLOW)),
            red=Count("pk", filter=Q(grade=Grade.RED)),
        )
        .order_by("-red", "-yellow", "unit__name")
    )


def cards_by_person(user: User | AnonymousUser, *, since: dt.datetime) -> QuerySet[Any]:
    """Per responsible person: the yellow and red cards received since `since`."""
    return (
        orders_visible(user)
        .filter(created_at__gte=since, grade__in=CARDS, person__isnull=False)
        .exclude(status=OrderStatus.WITHDRAWN)
        .values("person_id", "person__full_name", "person__username")
        .annotate(
            yellow=Count("pk", filter=Q(grade=Grade.YELLOW)),
            red=Count("pk", filter=Q(grade=Grade.RED)),
        )
        .order_by("-red", "-yellow", "person__username")
    )


def overdue_by_unit(user: User | AnonymousUser, *, since: dt.datetime) -> QuerySet[Any]:
    """Per unit: cases that became overdue since `since` (one overdue mark per case and deadline)."""
    from .models import DeadlineAlert

    cases = cases_visible(user).values("pk")
    return (
        DeadlineAlert.objects.filter(case_id__in=cases, level=2, created_at__gte=since)
        .values("case__responsible_unit_id", "case__responsible_unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )


def visit_get(user: User | AnonymousUser, pk: Any) -> Visit:
    """A visit in the user's grid (the visits' own selector), else 404."""
    return scoping.get_in_scope_or_404(visits_visible(user), pk=pk)


def case_of_visit(user: User | AnonymousUser, visit: Visit) -> Case | None:
    """The case already raised from this visit, if the user may see it."""
    return cases_visible(user).filter(visit=visit).first()


MEMBERS_LIMIT = 200


def unit_members(user: User | AnonymousUser, unit_id: Any) -> list[User]:
    """The active people of one unit of the user's city (for narrowing the responsible person to the
    chosen unit): one query, the unit's city checked in the same statement; empty for another city's."""
    if unit_id in (None, ""):
        return []
    try:
        pk = int(unit_id)
    except (ValueError, TypeError):
        return []
    qs = User.objects.filter(memberships__unit_id=pk, is_active=True)
    if not scoping.is_unrestricted(user):
        qs = qs.filter(memberships__unit__tenant_id=getattr(user, "tenant_id", None))
    return list(qs.order_by("username")[:MEMBERS_LIMIT])


def residents_for_parties(user: User | AnonymousUser) -> QuerySet[Resident]:
    """Active registered residents in the user's scope, who can be named as a case's parties."""
    return registry_selectors.residents_for(user).filter(status=RegistryStatus.ACTIVE)


def node_by_label(user: User | AnonymousUser, text: str) -> GridNode | None:
    """The grid in the user's view a list filter names by name or code (None when none or several)."""
    return grid_selectors.node_by_label(actor=user, text=text)


def record_prefill(user: User | AnonymousUser, *, household: Any) -> dict[str, Any]:
    """ "Record a case here" from a household's page: its plot, address, position and residents.

    The household is read through the registry's scoped selector: one outside the user's view
    (or no such household) prefills nothing.
    """
    if household in (None, "") or not str(household).isdigit():
        return {}
    found = registry_selectors.households_for(user).filter(pk=int(household)).first()
    if found is None:
        return {}
    residents = list(
        residents_for_parties(user).filter(household_id=found.pk).order_by("id").values_list("pk", flat=True)
    )
    return {
        "node": found.plot_id,
        "address": found.address,
        "latitude": found.latitude,
        "longitude": found.longitude,
        "residents": residents,
        "source": "visit",
    }


COUNT_EXACT_UP_TO = 1000


@dataclass(frozen=True)
class Total:
    count: int
    estimated: bool  # True: above COUNT_EXACT_UP_TO, the planner's estimate (shown as 约 …)


def case_list_total(qs: QuerySet[Case]) -> Total:
    """How many cases a list's filter matched, cheaply: exact up to `COUNT_EXACT_UP_TO` (a COUNT that
    stops after that many rows), above it PostgreSQL's estimate from EXPLAIN (nothing is counted)."""
    ids = qs.order_by().values("pk")
    exact = ids[: COUNT_EXACT_UP_TO + 1].count()
    if exact <= COUNT_EXACT_UP_TO:
        return Total(exact, False)
    if connection.vendor != "postgresql":
        return Total(ids.count(), False)  # the embedded database holds a laptop's worth of cases
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return Total(max(estimate, COUNT_EXACT_UP_TO + 1), True)


EXPORT_MAX = 5000


def case_export_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    """The rows of an export: the list's columns plus the parties' names (never their phones)."""
    return qs.select_related("node", "responsible_unit", "responsible_person").only(
        *LIST_FIELDS, "source", "party_names", "closed_at"
    )
