"""Every read of the mechanisms, already scoped through `grids.scoping`.

Two shapes of visibility:

- rows the user's grants cover (their subtree): reviews, drafts, analyses, patrols, meetings;
- notices published above and read below (warnings, guidance, campaigns): rows whose node is at or
  above one of the user's granted nodes (`scoping.ancestor_ids`), besides those in their subtree.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases.models import OPEN_STATUSES, TIMED_STATUSES, Case, CaseKind, Status, SubKind
from grids import scoping
from grids.models import GridNode, Household, Level
from teams.models import Unit, UnitKind, User
from teams.units import unit_ids_of, units_visible

from .models import (
    Campaign,
    Decision,
    DisputeReview,
    EarlyWarningDraft,
    InfoPost,
    InfoRead,
    Meeting,
    MeetingInvitee,
    Metric,
    Milestone,
    Operation,
    Patrol,
    PatrolFinding,
    ReviewItem,
    SecurityAnalysis,
    SecurityWarning,
    WarningAck,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    AnyUser = User | AnonymousUser

VIEW = scoping.VIEW
CHILD_COLUMN = {Level.CITY: "township", Level.TOWNSHIP: "cell", Level.CELL: "plot"}


def signed_in(request: Any) -> User:
    """The signed-in user acting through a page or an endpoint (both require a sign-in first)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def _in_scope(user: AnyUser, qs: QuerySet[Any]) -> QuerySet[Any]:
    return scoping.scope_rows(user, VIEW, qs)


def _in_scope_or_above(user: AnyUser, qs: QuerySet[Any], extra: Q | None = None) -> QuerySet[Any]:
    """Rows in the user's subtree, or published at or above their granted nodes."""
    if scoping.is_unrestricted(user):
        return qs
    rows = scoping.rows_filter(user, VIEW)
    above = scoping.ancestor_ids(user, VIEW) or []
    q = Q(tenant_id=scoping.tenant_of(user), node_id__in=above)
    if rows is not None:
        q |= rows & extra if extra is not None else rows
    if extra is not None and rows is None and not above:
        return qs.none()
    return qs.filter(q)


def node_get(user: AnyUser, pk: Any, perm: str = VIEW) -> GridNode | None:
    """A grid node the user may act at (None when missing or not theirs)."""
    try:
        return scoping.scope_nodes(user, perm).get(pk=pk)
    except (GridNode.DoesNotExist, ValueError, TypeError):
        return None


def cells_under(node: GridNode) -> QuerySet[GridNode]:
    """The cells at or below `node` (a cell is under itself), in tree order. The node's range is read
    afresh: a node object loaded before a tree write holds stale bounds."""
    fresh = GridNode.objects.only("tree_id", "lft", "rght", "level").get(pk=node.pk)
    return GridNode.objects.filter(scoping.descendants_q(fresh), level=Level.CELL).order_by("tree_id", "lft")


# --- reviews --------------------------------------------------------------------------------------


def reviews_visible(user: AnyUser) -> QuerySet[DisputeReview]:
    return _in_scope(user, DisputeReview.objects.select_related("node", "signed_by")).order_by(
        "-month", "-id"
    )


def review_get(user: AnyUser, pk: Any) -> DisputeReview:
    return scoping.get_in_scope_or_404(reviews_visible(user), pk=pk)


def reviews_to_sign(user: AnyUser) -> QuerySet[DisputeReview]:
    """Open reviews at nodes where the user may sign (holds manage_cases there)."""
    nodes = scoping.scope_nodes(user, "manage_cases").filter(level__lte=Level.TOWNSHIP).values("pk")
    return reviews_visible(user).filter(status="open", node_id__in=nodes)


def _month_bounds(review: DisputeReview) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    from .services import local_midnight, next_month, previous_month, tenant_zone

    zone = tenant_zone(review.tenant_id)
    return (
        local_midnight(previous_month(review.month), zone),
        local_midnight(review.month, zone),
        local_midnight(next_month(review.month), zone),
    )


def _disputes_of(review: DisputeReview) -> QuerySet[Case]:
    column = scoping.LEVEL_COLUMN[Level(review.node.level)]
    return Case.objects.filter(tenant_id=review.tenant_id, kind=CaseKind.DISPUTE, **{column: review.node_id})


def review_disputes(review: DisputeReview) -> QuerySet[Case]:
    """The disputes open now that were found by the end of the month reviewed."""
    _prev, _start, end = _month_bounds(review)
    return _disputes_of(review).filter(status__in=OPEN_STATUSES, created_at__lt=end)


def review_dispute_rows(review: DisputeReview) -> list[dict[str, Any]]:
    """Each open dispute with what the review confirmed for it (two queries)."""
    cases = list(
        review_disputes(review)
        .select_related("node", "cell", "responsible_unit", "responsible_person")
        .order_by("created_at", "pk")
    )
    items = {
        i.case_id: i
        for i in ReviewItem.objects.filter(review=review).select_related("unit", "person", "confirmed_by")
    }
    return [{"case": c, "item": items.get(c.pk)} for c in cases]


def dispute_row_json(row: dict[str, Any]) -> dict[str, Any]:
    case: Case = row["case"]
    item: ReviewItem | None = row["item"]
    return {
        "case": case.pk,
        "number": case.number,
        "title": case.title,
        "sub_kind": str(case.get_sub_kind_display()),
        "status": str(case.get_status_display()),
        "node": case.node.name,
        "unit": item.unit.name if item else None,
        "person": str(item.person) if item and item.person else None,
        "due_at": item.due_at.isoformat() if item else None,
        "confirmed_by": str(item.confirmed_by) if item else None,
        "confirmed_at": item.confirmed_at.isoformat() if item else None,
    }


def review_figures(review: DisputeReview, now: dt.datetime | None = None) -> dict[str, Any]:
    """Disputes found, resolved, still open and overdue in the month, by kind and by the grids one
    level down, beside the month before (three aggregate queries)."""
    now = now or timezone.now()
    prev, start, end = _month_bounds(review)
    base = _disputes_of(review).exclude(status=Status.MERGED)

    def counts() -> dict[str, Any]:
        return {
            "found": Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
            "found_before": Count("pk", filter=Q(created_at__gte=prev, created_at__lt=start)),
            "resolved": Count("pk", filter=Q(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end)),
            "resolved_before": Count(
                "pk", filter=Q(status=Status.CLOSED, closed_at__gte=prev, closed_at__lt=start)
            ),
            "open": Count("pk", filter=Q(status__in=OPEN_STATUSES, created_at__lt=end)),
            "overdue": Count("pk", filter=Q(status__in=TIMED_STATUSES, created_at__lt=end, due_at__lt=now)),
        }

    relevant = base.filter(Q(created_at__gte=prev) | Q(status__in=OPEN_STATUSES) | Q(closed_at__gte=prev))
    totals = relevant.aggregate(**counts())
    by_kind = [
        {
            "kind": str(dict(SubKind.choices).get(r["sub_kind"], r["sub_kind"])),
            **_only(r),
        }
        for r in relevant.values("sub_kind").annotate(**counts()).order_by("sub_kind")
    ]
    child = CHILD_COLUMN[Level(review.node.level)]
    by_grid = [
        {"grid": r[f"{child}__name"] or "—", **_only(r)}
        for r in relevant.values(f"{child}__name").annotate(**counts()).order_by(f"{child}__name")
    ]
    return {"month": f"{review.month:%Y-%m}", "totals": totals, "by_kind": by_kind, "by_grid": by_grid}


def _only(row: dict[str, Any]) -> dict[str, int]:
    keys = ("found", "found_before", "resolved", "resolved_before", "open", "overdue")
    return {k: row[k] for k in keys}


# --- warnings ------------------------------------------------------------------------------------


def warnings_visible(user: AnyUser) -> QuerySet[SecurityWarning]:
    qs = SecurityWarning.objects.select_related("node", "published_by").annotate(
        acks_count=Count("acks", distinct=True)
    )
    return _in_scope_or_above(user, qs).order_by("-published_at", "-id")


def warning_get(user: AnyUser, pk: Any) -> SecurityWarning:
    return scoping.get_in_scope_or_404(warnings_visible(user), pk=pk)


def warning_cells(warning: SecurityWarning) -> QuerySet[GridNode]:
    """Every cell under the warning, each marked acknowledged or not (one query)."""
    acked = WarningAck.objects.filter(warning_id=warning.pk, cell_id=OuterRef("pk"))
    return cells_under(warning.node).annotate(acked=Exists(acked))


def warnings_to_acknowledge(user: AnyUser) -> QuerySet[SecurityWarning]:
    """Warnings in force over a cell where the user may acknowledge, not yet acknowledged for it."""
    cells = scoping.scope_nodes(user, "record_case").filter(level=Level.CELL)
    pending = WarningAck.objects.filter(warning_id=OuterRef("pk"), cell_id__in=cells.values("pk"))
    return (
        _in_scope_or_above(user, SecurityWarning.objects.select_related("node"))
        .filter(status="in_force")
        .exclude(Exists(pending))
        .order_by("-published_at")
    )


def ack_cells(user: AnyUser, warning: SecurityWarning) -> QuerySet[GridNode]:
    """The cells under the warning this user may acknowledge for."""
    return cells_under(warning.node).filter(pk__in=scoping.scope_nodes(user, "record_case").values("pk"))


# --- early warning -------------------------------------------------------------------------------


def drafts_visible(user: AnyUser) -> QuerySet[EarlyWarningDraft]:
    return _in_scope(user, EarlyWarningDraft.objects.select_related("node", "decided_by")).order_by(
        "status", "-week", "p_value"
    )


def draft_get(user: AnyUser, pk: Any) -> EarlyWarningDraft:
    return scoping.get_in_scope_or_404(drafts_visible(user), pk=pk)


def draft_series(draft: EarlyWarningDraft) -> list[dict[str, Any]]:
    """The weekly counts behind a draft (baseline weeks, then the week flagged), for its page."""
    from .services import local_midnight, tenant_zone

    zone = tenant_zone(draft.tenant_id)
    end = local_midnight(draft.window_end + dt.timedelta(days=1), zone)
    column = scoping.LEVEL_COLUMN[Level(draft.node.level)]
    weeks = []
    for n in range(draft.baseline_weeks, -1, -1):
        hi = end - dt.timedelta(weeks=n)
        weeks.append((hi - dt.timedelta(days=7), hi))
    qs = Case.objects.filter(
        tenant_id=draft.tenant_id,
        kind=CaseKind.INCIDENT,
        sub_kind=draft.sub_kind,
        created_at__gte=weeks[0][0],
        created_at__lt=end,
        **{column: draft.node_id},
    ).exclude(status=Status.MERGED)
    counts = qs.aggregate(
        **{
            f"w{i}": Count("pk", filter=Q(created_at__gte=lo, created_at__lt=hi))
            for i, (lo, hi) in enumerate(weeks)
        }
    )
    return [
        {
            "from": lo.astimezone(zone).date().isoformat(),
            "count": counts[f"w{i}"],
            "flagged": i == len(weeks) - 1,
        }
        for i, (lo, _hi) in enumerate(weeks)
    ]


def drafts_to_review(user: AnyUser) -> QuerySet[EarlyWarningDraft]:
    nodes = scoping.scope_nodes(user, "manage_cases").values("pk")
    return (
        drafts_visible(user)
        .filter(status="draft")
        .filter(Q(township_id__in=nodes) | Q(city_id__in=nodes) | Q(cell_id__in=nodes))
    )


# --- meetings ------------------------------------------------------------------------------------


def meetings_visible(user: AnyUser) -> QuerySet[Meeting]:
    qs = Meeting.objects.select_related("node", "organiser")
    if scoping.is_unrestricted(user):
        return qs
    rows = scoping.rows_filter(user, VIEW)
    units = sorted(unit_ids_of(user))
    q = Q(pk__in=MeetingInvitee.objects.filter(unit_id__in=units).values("meeting_id")) if units else None
    if rows is None and q is None:
        return qs.none()
    combined = rows if q is None else (q if rows is None else rows | q)
    assert combined is not None
    return qs.filter(Q(tenant_id=scoping.tenant_of(user)) & combined).order_by("-starts_at", "-id")


def meeting_get(user: AnyUser, pk: Any) -> Meeting:
    qs = meetings_visible(user).prefetch_related(
        Prefetch("invitees", queryset=MeetingInvitee.objects.select_related("unit")),
        Prefetch("decisions", queryset=Decision.objects.select_related("owner", "done_by")),
    )
    return scoping.get_in_scope_or_404(qs, pk=pk)


def meeting_units(user: AnyUser) -> QuerySet[Unit]:
    """Units a meeting invites or gives a decision to: departments, leadership groups and offices of the
    user's city (not the cells' service teams)."""
    return units_visible(user).filter(is_active=True).exclude(kind=UnitKind.SERVICE_TEAM)


def decisions_visible(user: AnyUser) -> QuerySet[Decision]:
    return Decision.objects.filter(meeting__in=meetings_visible(user).values("pk")).select_related(
        "owner", "meeting"
    )


def decision_get(user: AnyUser, pk: Any) -> Decision:
    return scoping.get_in_scope_or_404(decisions_visible(user).select_related("meeting__node"), pk=pk)


def decisions_of_my_units(user: AnyUser) -> QuerySet[Decision]:
    return decisions_visible(user).filter(owner_id__in=sorted(unit_ids_of(user)), status="open")


def operations_visible(user: AnyUser) -> QuerySet[Operation]:
    return _in_scope(user, Operation.objects.select_related("node")).order_by("-created_at")


def operation_progress(op: Operation) -> dict[str, int]:
    return dict(op.cases.order_by().values_list("status").annotate(n=Count("pk")))


# --- shared information --------------------------------------------------------------------------


def posts_visible(user: AnyUser) -> QuerySet[InfoPost]:
    """Posted at or above the user's grids (read down), or below them and shared up."""
    qs = InfoPost.objects.select_related("node", "author")
    mine = InfoRead.objects.filter(post_id=OuterRef("pk"), user_id=getattr(user, "pk", None) or 0)
    qs = qs.annotate(read=Exists(mine), read_count=Count("reads", distinct=True))
    return _in_scope_or_above(user, qs, extra=Q(share_up=True)).order_by("-created_at", "-id")


def post_get(user: AnyUser, pk: Any) -> InfoPost:
    return scoping.get_in_scope_or_404(posts_visible(user), pk=pk)


def post_audience(post: InfoPost, limit: int = 200) -> tuple[list[Any], list[User]]:
    """(read receipts, people of the post's grid who have not read it), the second capped at `limit`."""
    reads = list(post.reads.select_related("user").order_by("read_at"))
    homes = GridNode.objects.filter(scoping.descendants_q(post.node)).values("pk")
    unread = list(
        User.objects.filter(tenant_id=post.tenant_id, is_active=True, home_node_id__in=homes)
        .exclude(pk__in=[r.user_id for r in reads])
        .order_by("username")[:limit]
    )
    return reads, unread


def unread_posts(user: AnyUser) -> QuerySet[InfoPost]:
    unread = Q(read=False)  # the annotation of posts_visible
    return posts_visible(user).filter(unread).exclude(author_id=getattr(user, "pk", None))


# --- analyses, patrols ---------------------------------------------------------------------------


def incident_figures(node: GridNode, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Incidents under `node` in [start, end) by the grids one level down and by kind, beside the
    period of the same length before it (two aggregate queries)."""
    from .services import local_midnight, tenant_zone

    zone = tenant_zone(node.tenant_id)
    lo, hi = local_midnight(start, zone), local_midnight(end, zone)
    before = lo - (hi - lo)
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    base = Case.objects.filter(
        tenant_id=node.tenant_id,
        kind=CaseKind.INCIDENT,
        created_at__gte=before,
        created_at__lt=hi,
        **{column: node.pk},
    ).exclude(status=Status.MERGED)
    counts = {
        "now": Count("pk", filter=Q(created_at__gte=lo)),
        "before": Count("pk", filter=Q(created_at__lt=lo)),
    }
    child = CHILD_COLUMN[Level(node.level)]
    labels = dict(SubKind.choices)
    by_kind = [
        {"kind": str(labels.get(r["sub_kind"], r["sub_kind"])), "now": r["now"], "before": r["before"]}
        for r in base.values("sub_kind").annotate(**counts).order_by("-now")
    ]
    by_grid = [
        {"grid": r[f"{child}__name"] or "—", "now": r["now"], "before": r["before"]}
        for r in base.values(f"{child}__name").annotate(**counts).order_by("-now")
    ]
    total = base.aggregate(**counts)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": total,
        "by_kind": by_kind,
        "by_grid": by_grid,
    }


def analyses_visible(user: AnyUser) -> QuerySet[SecurityAnalysis]:
    return _in_scope(user, SecurityAnalysis.objects.select_related("node", "created_by")).order_by(
        "-period_start"
    )


def analysis_get(user: AnyUser, pk: Any) -> SecurityAnalysis:
    return scoping.get_in_scope_or_404(analyses_visible(user), pk=pk)


def patrols_visible(user: AnyUser) -> QuerySet[Patrol]:
    return _in_scope(user, Patrol.objects.select_related("node", "recorded_by")).order_by(
        "-started_at", "-id"
    )


def patrol_get(user: AnyUser, pk: Any) -> Patrol:
    qs = patrols_visible(user).prefetch_related(
        "plots",
        "members",
        Prefetch("findings", queryset=PatrolFinding.objects.select_related("plot", "case")),
    )
    return scoping.get_in_scope_or_404(qs, pk=pk)


def finding_get(user: AnyUser, pk: Any) -> PatrolFinding:
    qs = PatrolFinding.objects.filter(patrol__in=patrols_visible(user).values("pk")).select_related("plot")
    return scoping.get_in_scope_or_404(qs, pk=pk)


def service_teams_of(cell: GridNode) -> QuerySet[Unit]:
    """The active service teams standing at a cell the caller has already fetched in scope."""
    return Unit.objects.filter(
        tenant_id=cell.tenant_id, node_id=cell.pk, kind=UnitKind.SERVICE_TEAM, is_active=True
    ).order_by("name")


def plots_of(cell: GridNode) -> QuerySet[GridNode]:
    return GridNode.objects.filter(parent=cell, level=Level.PLOT).order_by("code")


# --- campaigns -----------------------------------------------------------------------------------


def campaigns_visible(user: AnyUser) -> QuerySet[Campaign]:
    return _in_scope_or_above(user, Campaign.objects.select_related("node")).order_by("-starts_on", "-id")


def campaign_get(user: AnyUser, pk: Any) -> Campaign:
    qs = campaigns_visible(user).prefetch_related("milestones")
    return scoping.get_in_scope_or_404(qs, pk=pk)


def milestone_progress(milestone: Milestone, campaign: Campaign) -> list[dict[str, Any]]:
    """Progress of a milestone per township under the campaign's grid, measured from the data
    (one aggregate query, plus one for the townships)."""
    node = GridNode.objects.only("tenant_id", "tree_id", "lft", "rght", "level").get(pk=campaign.node_id)
    townships = GridNode.objects.filter(scoping.descendants_q(node), level=Level.TOWNSHIP).order_by("lft")
    if milestone.metric == Metric.PLOTS_WITH_RESPONSIBLE:
        rows = townships.annotate(
            num=scoping.descendants_at(Level.PLOT, Q(responsible__isnull=False)),
            den=scoping.descendants_at(Level.PLOT),
        ).values_list("pk", "name", "num", "den")
        figures = [(pk, name, num, den) for pk, name, num, den in rows]
    elif milestone.metric == Metric.PLOTS_WITH_HOUSEHOLDS:
        entered = dict(
            Household.objects.filter(tenant_id=node.tenant_id, township_id__in=townships.values("pk"))
            .values("township_id")
            .annotate(n=Count("plot_id", distinct=True))
            .values_list("township_id", "n")
        )
        rows = townships.annotate(den=scoping.descendants_at(Level.PLOT)).values_list("pk", "name", "den")
        figures = [(pk, name, entered.get(pk, 0), den) for pk, name, den in rows]
    else:
        zone_start = campaign.starts_on
        cases = Case.objects.filter(
            tenant_id=node.tenant_id,
            kind=milestone.case_kind,
            township_id__in=townships.values("pk"),
            created_at__date__gte=zone_start,
        ).exclude(status=Status.MERGED)
        if milestone.case_sub_kind:
            cases = cases.filter(sub_kind=milestone.case_sub_kind)
        counted = {
            r["township_id"]: (r["closed"], r["total"])
            for r in cases.values("township_id").annotate(
                closed=Count("pk", filter=Q(status=Status.CLOSED)), total=Count("pk")
            )
        }
        figures = [(pk, name, *counted.get(pk, (0, 0))) for pk, name in townships.values_list("pk", "name")]
    return [
        {
            "township": pk,
            "name": name,
            "done": num,
            "of": den,
            "percent": round(100 * num / den, 1) if den else None,
            "met": bool(den) and 100 * num / den >= milestone.target_percent,
        }
        for pk, name, num, den in figures
    ]


def campaign_monthly(campaign: Campaign) -> list[dict[str, Any]]:
    """Incidents of the watched kind per month of the campaign (the case rate watched)."""
    if not campaign.watched_sub_kind:
        return []
    column = scoping.LEVEL_COLUMN[Level(campaign.node.level)]
    rows = (
        Case.objects.filter(
            tenant_id=campaign.tenant_id,
            kind=CaseKind.INCIDENT,
            sub_kind=campaign.watched_sub_kind,
            created_at__date__gte=campaign.starts_on.replace(day=1),
            created_at__date__lt=campaign.ends_on,
            **{column: campaign.node_id},
        )
        .exclude(status=Status.MERGED)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return [{"month": r["month"].strftime("%Y-%m"), "count": r["n"]} for r in rows]


def publish_targets(
    user: AnyUser, perm: str = "manage_cases", max_level: int = Level.CELL
) -> QuerySet[GridNode]:
    """Grids where the user may publish or call something, down to `max_level`, in tree order (capped)."""
    return scoping.scope_nodes(user, perm).filter(level__lte=max_level).order_by("tree_id", "lft")[:300]


def patrol_cells(user: AnyUser) -> QuerySet[GridNode]:
    """Cells whose patrols the user may log."""
    return scoping.scope_nodes(user, "record_case").filter(level=Level.CELL).order_by("tree_id", "lft")[:300]
