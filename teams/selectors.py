"""Reads of people, already scoped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from grids import scoping

from .models import User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def user_list(*, actor: User | AnonymousUser, perm: str = "manage_grid") -> QuerySet[User]:
    """Users whose home node lies where `actor` holds `perm` (platform superusers: everyone)."""
    qs = User.objects.select_related("tenant", "home_node").order_by("username")
    if scoping.is_unrestricted(actor):
        return qs
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=tenant_id, home_node__in=scoping.scope_nodes(actor, perm).values("pk"))


# --- the inbox ----------------------------------------------------------------------------------

from .inbox_models import CityChannel, InboxItem  # noqa: E402


def inbox_items(actor: User | AnonymousUser, *, unread_only: bool = False) -> QuerySet[InboxItem]:
    """The actor's own inbox, newest first (nobody reads another person's inbox)."""
    if not (actor.is_authenticated and actor.is_active):
        return InboxItem.objects.none()
    qs = InboxItem.objects.filter(user_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def inbox_unread_count(actor: User | AnonymousUser) -> int:
    """One COUNT over the partial index of unread items."""
    if not (actor.is_authenticated and actor.is_active):
        return 0
    return InboxItem.objects.filter(user_id=actor.pk, read_at__isnull=True).count()


# --- field work: my plots, due households, coverage, visits ---------------------------------------


def channels_visible(actor: User | AnonymousUser) -> QuerySet[CityChannel]:
    """The delivery channels of the actor's city (every city's for the platform)."""
    if scoping.is_unrestricted(actor):
        return CityChannel.objects.all()
    tenant_id: int | None = getattr(actor, "tenant_id", None)
    if tenant_id is None:
        return CityChannel.objects.none()
    return CityChannel.objects.filter(tenant_id=tenant_id)


import datetime as dt  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from django.db.models import (  # noqa: E402
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce  # noqa: E402
from django.db.models.lookups import GreaterThan  # noqa: E402
from django.utils import timezone  # noqa: E402

from grids.models import GridNode, Household, Level  # noqa: E402
from grids.registry.models import Status as RegistryStatus  # noqa: E402

from .models import Membership, PlotAssignment, Unit, UnitKind, Visit, VisitCadence  # noqa: E402


def cadences(tenant_id: int | None) -> list[VisitCadence]:
    """The city's visit cadences, shortest interval first (one query)."""
    if tenant_id is None:
        return []
    return list(VisitCadence.objects.filter(tenant_id=tenant_id).order_by("interval_days", "tag"))


def due_cutoff(rules: list[VisitCadence], today: dt.date) -> Case | Value:
    """Per household, in SQL: the day on or before which its last visit makes it due again.

    The first matching cadence (shortest interval) wins; a household no cadence covers is never due
    (NULL cutoff).
    """
    whens = []
    for rule in rules:
        cutoff = Value(today - dt.timedelta(days=rule.interval_days), output_field=DateField())
        if rule.tag == 0:
            whens.append(When(Q(pk__isnull=False), then=cutoff))
        else:
            whens.append(When(GreaterThan(F("tags").bitand(rule.tag), 0), then=cutoff))
    if not whens:
        return Value(None, output_field=DateField())
    return Case(*whens, default=Value(None, output_field=DateField()), output_field=DateField())


def _last_visit() -> Subquery:
    return Subquery(
        Visit.objects.filter(household=OuterRef("pk")).order_by("-visited_on").values("visited_on")[:1],
        output_field=DateField(),
    )


def households_with_due(qs: Any, rules: list[VisitCadence], today: dt.date) -> Any:
    """Annotate `last_visit`, `due_cutoff` and `is_due` on households (all in the same statement)."""
    return qs.annotate(last_visit=_last_visit(), due_cutoff=due_cutoff(rules, today)).annotate(
        is_due=Case(
            When(due_cutoff__isnull=True, then=Value(False)),
            When(last_visit__isnull=True, then=Value(True)),
            When(last_visit__lte=F("due_cutoff"), then=Value(True)),
            default=Value(False),
        )
    )


def _month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


def my_assignments(*, actor: User | AnonymousUser, today: dt.date | None = None) -> list[PlotAssignment]:
    """The actor's plots now, each with its households, households visited this month and households
    due (two queries: the cadences, then one statement with correlated counts per plot)."""
    if not (actor.is_authenticated and actor.is_active) or actor.tenant_id is None:
        return []
    today = today or timezone.localdate()
    rules = cadences(actor.tenant_id)
    active = Household.objects.filter(plot_id=OuterRef("plot_id"), status=RegistryStatus.ACTIVE).order_by()
    households = active.values("plot_id").annotate(n=Count("pk")).values("n")
    visited = (
        Visit.objects.filter(plot_id=OuterRef("plot_id"), visited_on__gte=_month_start(today))
        .order_by()
        .values("plot_id")
        .annotate(n=Count("household_id", distinct=True))
        .values("n")
    )
    due = (
        households_with_due(active, rules, today)
        .filter(is_due=True)
        .values("plot_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        PlotAssignment.objects.filter(member_id=actor.pk, tenant_id=actor.tenant_id, ended_at__isnull=True)
        .select_related("plot", "cell")
        .annotate(
            household_count=Coalesce(Subquery(households, output_field=IntegerField()), 0),
            visited_this_month=Coalesce(Subquery(visited, output_field=IntegerField()), 0),
            due_count=Coalesce(Subquery(due, output_field=IntegerField()), 0),
        )
        .order_by("plot__code")
    )
    return list(qs)


def my_due_households(
    *, actor: User | AnonymousUser, today: dt.date | None = None, limit: int = 200
) -> list[Household]:
    """Households due a visit in the actor's plots, the longest unvisited first (cadences + one query)."""
    if not (actor.is_authenticated and actor.is_active) or actor.tenant_id is None:
        return []
    today = today or timezone.localdate()
    mine = PlotAssignment.objects.filter(member_id=actor.pk, ended_at__isnull=True).values("plot_id")
    qs = Household.objects.filter(tenant_id=actor.tenant_id, plot_id__in=mine, status=RegistryStatus.ACTIVE)
    qs = households_with_due(qs, cadences(actor.tenant_id), today).filter(is_due=True)
    return list(qs.select_related("plot").order_by(F("last_visit").asc(nulls_first=True), "number")[:limit])


def my_households(*, actor: User | AnonymousUser) -> Any:
    """Every active household of the actor's plots now (the visit form's choices)."""
    if not (actor.is_authenticated and actor.is_active) or actor.tenant_id is None:
        return Household.objects.none()
    mine = PlotAssignment.objects.filter(member_id=actor.pk, ended_at__isnull=True).values("plot_id")
    return (
        Household.objects.filter(tenant_id=actor.tenant_id, plot_id__in=mine, status=RegistryStatus.ACTIVE)
        .select_related("plot")
        .order_by("plot__code", "number")
    )


# --- coverage -------------------------------------------------------------------------------------


@dataclass
class Coverage:
    node: GridNode
    plots: int
    covered: int
    uncovered_plots: list[GridNode]
    idle_members: list[Membership]
    idle_count: int
    children: list[GridNode]

    @property
    def percent(self) -> float:
        return round(100.0 * self.covered / self.plots, 1) if self.plots else 0.0


GAP_LIMIT = 200


def coverage(*, actor: User | AnonymousUser, node: GridNode) -> Coverage:
    """Plots covered below `node` (which the caller fetched in scope), the gaps, and each child's
    figures: five queries whatever the number of plots and members.

    1. totals: plots below the node and how many have an open assignment;
    2. the plots without anyone (up to GAP_LIMIT);
    3. how many service-team members below the node hold no plot;
    4. those members (up to GAP_LIMIT);
    5. the node's children with their plot and covered counts.
    """
    open_here = PlotAssignment.objects.filter(plot=OuterRef("pk"), ended_at__isnull=True)
    plots = scoping.scope_nodes(actor).filter(scoping.descendants_q(node), level=Level.PLOT)
    totals = plots.aggregate(n=Count("pk"), covered=Count("pk", filter=Q(Exists(open_here))))
    uncovered = list(
        plots.filter(~Exists(open_here)).select_related("parent").order_by(*scoping.TREE_ORDER)[:GAP_LIMIT]
    )
    cells = scoping.scope_nodes(actor).filter(scoping.descendants_q(node), level=Level.CELL).values("pk")
    holds = PlotAssignment.objects.filter(member=OuterRef("user_id"), ended_at__isnull=True)
    idle = Membership.objects.filter(
        unit__kind=UnitKind.SERVICE_TEAM, unit__is_active=True, unit__node_id__in=cells
    ).filter(~Exists(holds))
    idle_count = idle.count()
    idle_members = list(
        idle.select_related("user", "unit", "unit__node").order_by("unit__code", "user_id")[:GAP_LIMIT]
    )
    children: list[GridNode] = []
    if node.level < Level.PLOT:
        column = scoping.LEVEL_COLUMN[Level(node.level + 1)]
        covered = (
            PlotAssignment.objects.filter(**{column: OuterRef("pk")}, ended_at__isnull=True)
            .order_by()
            .values(column)
            .annotate(n=Count("pk"))
            .values("n")
        )
        children = list(
            scoping.scope_nodes(actor)
            .filter(parent=node)
            .annotate(
                plots=scoping.descendants_at(Level.PLOT)
                if node.level + 1 < Level.PLOT
                else Value(1, output_field=IntegerField()),
                covered=Coalesce(Subquery(covered, output_field=IntegerField()), 0),
            )
            .order_by(*scoping.TREE_ORDER)
        )
    return Coverage(
        node=node,
        plots=totals["n"],
        covered=totals["covered"],
        uncovered_plots=uncovered,
        idle_members=idle_members,
        idle_count=idle_count,
        children=children,
    )


def teams_visible(actor: User | AnonymousUser) -> QuerySet[Unit]:
    """Service teams and leadership groups of the actor's city whose grid node the actor may see."""
    qs = Unit.objects.filter(kind__in=[UnitKind.SERVICE_TEAM, UnitKind.LEADERSHIP_GROUP]).select_related(
        "node", "parent"
    )
    if scoping.is_unrestricted(actor):
        return qs.order_by("code")
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None:
        return qs.none()
    return qs.filter(tenant_id=tenant_id, node__in=scoping.scope_nodes(actor).values("pk")).order_by("code")


def assignments_visible(actor: User | AnonymousUser) -> QuerySet[PlotAssignment]:
    """Plot assignments (current and past) in the actor's grid."""
    return scoping.scope_rows(actor, scoping.VIEW, PlotAssignment.objects.all()).select_related(
        "plot", "member", "assigned_by"
    )


def visits_visible(actor: User | AnonymousUser) -> QuerySet[Visit]:
    """Visits in the actor's grid, and the actor's own visits (a police officer visiting a paired
    household holds no grid grant), newest first."""
    q = scoping.rows_filter(actor, scoping.VIEW)
    if actor.is_authenticated and actor.is_active and not scoping.is_unrestricted(actor):
        own = Q(visitor_id=actor.pk, tenant_id=scoping.tenant_of(actor))
        q = own if q is None else (q | own)
    return (
        (Visit.objects.none() if q is None else Visit.objects.filter(q))
        .select_related("household", "visitor", "plot", "assignment__member")
        .prefetch_related("photos")
        .order_by("-visited_on", "-id")
    )


def assignable_members(*, plot: GridNode) -> QuerySet[User]:
    """The people of the service team of the plot's cell (the only people a plot may be given to)."""
    return (
        User.objects.filter(
            memberships__unit__kind=UnitKind.SERVICE_TEAM,
            memberships__unit__node_id=plot.parent_id,
            memberships__unit__is_active=True,
            tenant_id=plot.tenant_id,
        )
        .distinct()
        .order_by("full_name", "username")
    )


# --- pairings (百家单位联百村、百名干警联百户) -------------------------------------------------------

from .models import Pairing, PairingKind  # noqa: E402


def _pairing_visits_this_month(today: dt.date) -> Coalesce:
    """Per pairing: visits made under it since the first of the month (the partial index on
    (pairing, visited_on))."""
    counted = (
        Visit.objects.filter(pairing=OuterRef("pk"), visited_on__gte=_month_start(today))
        .order_by()
        .values("pairing")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def pairings_visible(actor: User | AnonymousUser) -> QuerySet[Pairing]:
    """Pairings in the actor's grid (current and ended)."""
    return scoping.scope_rows(actor, scoping.VIEW, Pairing.objects.all()).select_related(
        "unit", "officer", "household", "cell", "plot"
    )


@dataclass
class PairingPage:
    node: GridNode
    pairings: Sequence[Pairing]
    unit_villages: int
    officer_households: int
    visits_this_month: int


PAIRING_PAGE_LIMIT = 500


def pairing_page(*, actor: User | AnonymousUser, node: GridNode, today: dt.date | None = None) -> PairingPage:
    """The open pairings below `node` (fetched in scope by the caller) with their visits this month.

    Two queries whatever the number of pairings and visits:
    1. the figures: open pairings of each kind, and visits under them this month (one aggregate);
    2. the pairings (up to PAIRING_PAGE_LIMIT), each with its own count of visits this month.
    """
    today = today or timezone.localdate()
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    open_here = pairings_visible(actor).filter(**{column: node.pk}, ended_on__isnull=True)
    totals = open_here.aggregate(
        units=Count("pk", filter=Q(kind=PairingKind.UNIT_VILLAGE), distinct=True),
        officers=Count("pk", filter=Q(kind=PairingKind.OFFICER_HOUSEHOLD), distinct=True),
        visits=Count("visits", filter=Q(visits__visited_on__gte=_month_start(today))),
    )
    rows = list(
        open_here.annotate(visits_this_month=_pairing_visits_this_month(today)).order_by(
            "kind", "cell_id", "id"
        )[:PAIRING_PAGE_LIMIT]
    )
    return PairingPage(
        node=node,
        pairings=rows,
        unit_villages=totals["units"],
        officer_households=totals["officers"],
        visits_this_month=totals["visits"],
    )


def my_pairings(*, actor: User | AnonymousUser, today: dt.date | None = None) -> list[Pairing]:
    """The actor's open pairings (as the officer or through their unit) with this month's visits
    (one query)."""
    if not (actor.is_authenticated and actor.is_active) or actor.tenant_id is None:
        return []
    today = today or timezone.localdate()
    mine = Pairing.objects.filter(tenant_id=actor.tenant_id, ended_on__isnull=True).filter(
        Q(officer_id=actor.pk) | Q(unit__memberships__user_id=actor.pk, unit__is_active=True)
    )
    return list(
        mine.select_related("unit", "cell", "household")
        .annotate(visits_this_month=_pairing_visits_this_month(today))
        .order_by("kind", "id")
    )


def my_paired_households(*, actor: User | AnonymousUser) -> Any:
    """Active households the actor may visit under a pairing (the visit form adds them to its choices)."""
    if not (actor.is_authenticated and actor.is_active) or actor.tenant_id is None:
        return Household.objects.none()
    mine = Pairing.objects.filter(tenant_id=actor.tenant_id, ended_on__isnull=True).filter(
        Q(officer_id=actor.pk) | Q(unit__memberships__user_id=actor.pk, unit__is_active=True)
    )
    paired = Q(pk__in=mine.filter(kind=PairingKind.OFFICER_HOUSEHOLD).values("household_id")) | Q(
        cell_id__in=mine.filter(kind=PairingKind.UNIT_VILLAGE).values("cell_id")
    )
    return (
        Household.objects.filter(paired, tenant_id=actor.tenant_id, status=RegistryStatus.ACTIVE)
        .select_related("plot")
        .order_by("plot__code", "number")
    )


# --- the work log (工作日志) --------------------------------------------------------------------------

from .models import WorkLogNote  # noqa: E402


def day_open(day: dt.date) -> bool:
    """A log day is open (notes may be written and edited) until it ends in the city's time zone;
    after that it is closed and only annotated."""
    return day >= timezone.localdate()


def log_person(*, reader: User | AnonymousUser, pk: Any) -> User:
    """The person whose log the reader asks for: themselves, or a person whose home grid the reader
    sees (404 otherwise, the same as missing)."""
    if reader.is_authenticated and str(pk) == str(reader.pk):
        return reader  # type: ignore[return-value]
    return scoping.get_in_scope_or_404(
        user_list(actor=reader, perm=scoping.VIEW).filter(is_active=True), pk=pk
    )


def log_node(*, reader: User | AnonymousUser, pk: Any) -> GridNode:
    """The office's grid (a township or a cell) whose log the reader asks for, in scope or 404."""
    node = scoping.get_node_or_404(reader, pk)
    if node.level not in (Level.TOWNSHIP, Level.CELL):
        from django.http import Http404

        raise Http404
    return node


def log_notes(
    *, reader: User | AnonymousUser, day: dt.date, person: User | None = None, node: GridNode | None = None
) -> QuerySet[WorkLogNote]:
    """The notes of one log and day that the reader may see: in their grid, or written by them."""
    q = scoping.rows_filter(reader, scoping.VIEW)
    if reader.is_authenticated and not scoping.is_unrestricted(reader):
        own = Q(author_id=reader.pk) | Q(person_id=reader.pk)
        q = own if q is None else (q | own)
    if q is None:
        return WorkLogNote.objects.none()
    qs = WorkLogNote.objects.filter(q, day=day)
    qs = qs.filter(person=person) if person is not None else qs.filter(node=node)
    return qs.select_related("author").order_by("created_at", "id")
