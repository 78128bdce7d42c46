"""The dashboards' monthly summary (`MonthlyFigure`): one row per grid node (every level) and past month.

`refresh(tenant_id=...)` rewrites the rows of one city for the past months a dashboard can reach
(`MONTHS`, up to last month: this month is always counted live from the cases). It is set-based and
idempotent: one transaction holding a PostgreSQL advisory lock on the city; the window's rows are
deleted, the city root gets a row for every month of the window (zeros included: it marks the month
as summarised), then one INSERT ... SELECT ... ON CONFLICT DO UPDATE per figure family writes every
node of the city at once. The family's SELECT groups the rows once by their four ancestor columns and
month, and rolls up to each level from that. Running it twice, or twice at once, leaves the same rows.
The Celery beat schedule (`ruian_grid/beat.py`) runs it every hour; `seed_demo` runs it at the end.

`stored(...)` is the dashboard's side: the rows of a node and its children for a range of months, and
which of those months are summarised. A month the summary does not cover (never refreshed, older than
the window, or just ended and not yet refreshed) is counted live, so the figures are the same either
way; past months may lag the cases by up to an hour (a case merged, reopened or backdated meanwhile).

Works on PostgreSQL and SQLite alike (the SELECTs are compiled by the ORM; only the month's first day
and the lock differ).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from cases.models import (
    AlertLevel,
    Case,
    CaseKind,
    DeadlineAlert,
    Grade,
    OrderStatus,
    Status,
    SupervisionOrder,
)
from grids.models import Level, Tenant
from teams.models import Visit

from .models import MonthlyFigure

# Every past month a dashboard can reach: 24 months to choose from, each with its 12-month trend.
MONTHS = 36
LOCK_NAMESPACE = 0x52505453  # "RPTS": apart from the grid tree's advisory locks
LEVEL_COLUMNS = ("city_id", "township_id", "cell_id", "plot_id")  # Level 0..3
FIGURES = (
    "incidents",
    "hazards",
    "petitions",
    "closed",
    "closed_on_time",
    "satisfied",
    "rated",
    "open",
    "overdue",
    "yellow_cards",
    "red_cards",
    "visited",
)
SATISFIED = ("satisfied", "basically")
RATED = ("satisfied", "basically", "unsatisfied")

_disabled = False


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Dashboards computed without the summary, all live (the bench's before, the tests' reference)."""
    global _disabled
    before, _disabled = _disabled, True
    try:
        yield
    finally:
        _disabled = before


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _start(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())


def window(*, today: dt.date | None = None, months: int = MONTHS) -> tuple[dt.date, dt.date]:
    """The first and the last month a refresh covers: the `months` months before this one."""
    this_month = (today or timezone.localdate()).replace(day=1)
    return _add_months(this_month, -months), _add_months(this_month, -1)


# --- refresh -----------------------------------------------------------------------------------------


@dataclass
class Family:
    """One figure family: a SELECT of grouped rows (the four ancestor columns, year, month, then
    `figures`), with the CTEs it needs before it."""

    figures: list[str]
    sql: str
    params: list[Any]
    before: list[tuple[str, list[Any]]] = field(default_factory=list)


def _grouped(qs: QuerySet[Any], prefix: str, moment: str, **figures: Any) -> Family:
    """`qs` grouped by the four ancestor columns (through `prefix`) and the month of `moment` (in
    the city's time zone, as the live queries count it), with `figures` as its last columns."""
    columns = [f"{prefix}{c.removesuffix('_id')}" for c in LEVEL_COLUMNS]
    grouped = (
        qs.order_by()
        .annotate(y=ExtractYear(moment), mo=ExtractMonth(moment))
        .values(*columns, "y", "mo")
        .annotate(**figures)
        .values_list(*columns, "y", "mo", *figures)
    )
    sql, params = grouped.query.sql_with_params()
    return Family(list(figures), sql, list(params))


def _month_sql() -> str:
    if connection.vendor == "postgresql":
        return "make_date(CAST(y AS integer), CAST(mo AS integer), 1)"
    return "printf('%%04d-%%02d-01', y, mo)"


def _write(
    tenant_id: int, root_id: int, at: dt.datetime, months: list[dt.date], families: list[Family]
) -> None:
    """One INSERT of every node's row for every month: each family's grouped rows rolled up to the
    four levels, the root's marker for every month, summed per node and month."""
    ctes: list[tuple[str, list[Any]]] = []
    parts: list[str] = []
    for n, family in enumerate(families):
        ctes += family.before
        cols = ", ".join(family.figures)
        ctes.append(
            (f"f{n} (city_id, township_id, cell_id, plot_id, y, mo, {cols}) AS ({family.sql})", family.params)
        )
        values = ", ".join(f if f in family.figures else f"0 AS {f}" for f in FIGURES)
        # Identifiers here are our own constants and the ORM's SQL; every value is a parameter.
        parts += [
            f"SELECT {column} AS node_id, {level} AS level, y, mo, {values} FROM f{n} WHERE {column} IS NOT NULL"  # noqa: S608
            for level, column in enumerate(LEVEL_COLUMNS)
        ]
    zeros = ", ".join(f"0 AS {f}" for f in FIGURES)
    ctes.append(
        ("marks (node_id, y, mo) AS (VALUES " + ", ".join("(%s, %s, %s)" for _ in months) + ")",
         [v for m in months for v in (root_id, m.year, m.month)])
    )  # fmt: skip
    parts.append(f"SELECT node_id, {Level.CITY} AS level, y, mo, {zeros} FROM marks")  # noqa: S608
    cols = ", ".join(FIGURES)
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    updates = ", ".join(f"{f} = excluded.{f}" for f in [*FIGURES, "refreshed_at"])
    table = MonthlyFigure._meta.db_table
    with_clause = "WITH " + ", ".join(sql for sql, _ in ctes)
    statement = (
        f"{with_clause} INSERT INTO {table} (tenant_id, node_id, level, month, {cols}, refreshed_at) "  # noqa: S608
        f"SELECT %s, node_id, level, {_month_sql()}, {sums}, %s FROM ({' UNION ALL '.join(parts)}) AS rollup "
        f"WHERE 1 = 1 GROUP BY node_id, level, y, mo "
        f"ON CONFLICT (node_id, month) DO UPDATE SET {updates}"
    )
    params = [v for _, p in ctes for v in p] + [tenant_id, at]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _open_at_month_ends(tenant_id: int, months: list[dt.date]) -> Family:
    """Cases open at each month's end (recorded by then, not closed by then)."""
    if connection.vendor == "postgresql":
        return _open_at_month_ends_postgres(tenant_id, months)
    ops = connection.ops
    ends_params: list[Any] = []
    for m in months:
        ends_params += [m.year, m.month, ops.adapt_datetimefield_value(_start(_add_months(m, 1)))]
    ends = "ends (y, mo, month_end) AS (VALUES " + ", ".join("(%s, %s, %s)" for _ in months) + ")"
    case = Case._meta.db_table
    sql = (
        f"SELECT c.city_id, c.township_id, c.cell_id, c.plot_id, e.y, e.mo, COUNT(*) "  # noqa: S608
        f"FROM {case} c JOIN ends e ON c.created_at < e.month_end "
        f"AND (c.closed_at IS NULL OR c.closed_at >= e.month_end) "
        f"WHERE c.tenant_id = %s AND c.status <> %s "
        f"GROUP BY c.city_id, c.township_id, c.cell_id, c.plot_id, e.y, e.mo"
    )
    return Family(["open"], sql, [tenant_id, Status.MERGED], before=[(ends, ends_params)])


def _open_at_month_ends_postgres(tenant_id: int, months: list[dt.date]) -> Family:
    """The same on PostgreSQL, in time proportional to the months each case stayed open: a case is
    open at the end of every month from the one it was recorded in to the one before it closed, so
    each case yields those months of the window (generate_series) instead of being compared with
    every month's end."""
    first = months[0].year * 12 + months[0].month - 1
    last = months[-1].year * 12 + months[-1].month - 1
    case = Case._meta.db_table
    tz = settings.TIME_ZONE

    def index(column: str) -> str:  # the month of `column` in the city's time zone as year * 12 + month - 1
        return (
            f"(CAST(EXTRACT(YEAR FROM {column} AT TIME ZONE %s) AS integer) * 12"
            f" + CAST(EXTRACT(MONTH FROM {column} AT TIME ZONE %s) AS integer) - 1)"
        )

    sql = (
        f"SELECT c.city_id, c.township_id, c.cell_id, c.plot_id, i / 12, i %% 12 + 1, COUNT(*) "  # noqa: S608
        f"FROM {case} c CROSS JOIN LATERAL generate_series(GREATEST({index('c.created_at')}, %s), "
        f"CASE WHEN c.closed_at IS NULL THEN %s ELSE LEAST({index('c.closed_at')} - 1, %s) END) AS i "
        f"WHERE c.tenant_id = %s AND c.status <> %s AND c.created_at < %s "
        f"AND (c.closed_at IS NULL OR c.closed_at >= %s) "
        f"GROUP BY 1, 2, 3, 4, 5, 6"
    )
    params = [tz, tz, first, last, tz, tz, last, tenant_id, Status.MERGED]
    params += [_start(_add_months(months[-1], 1)), _start(_add_months(months[0], 1))]
    return Family(["open"], sql, params)


def refresh(*, tenant_id: int, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Rewrite the summary of one city for the months `first`..`last` (default: `window()`). Returns
    the number of rows the window holds afterwards."""
    default_first, default_last = window()
    first, last = (first or default_first).replace(day=1), (last or default_last).replace(day=1)
    months = []
    m = first
    while m <= last:
        months.append(m)
        m = _add_months(m, 1)
    if not months:
        return 0
    start, end = _start(first), _start(_add_months(last, 1))
    cases = Case.objects.filter(tenant_id=tenant_id).exclude(status=Status.MERGED)
    went_red = DeadlineAlert.objects.filter(case=OuterRef("pk"), level__gte=AlertLevel.RED)
    families = [
        # recorded in the month, by kind
        _grouped(
            cases.filter(created_at__gte=start, created_at__lt=end),
            "",
            "created_at",
            incidents=Count("pk", filter=Q(kind=CaseKind.INCIDENT)),
            hazards=Count("pk", filter=Q(kind=CaseKind.HAZARD)),
            petitions=Count("pk", filter=Q(kind=CaseKind.PETITION)),
        ),
        # closed in the month: on time (never went red), the residents' answers
        _grouped(
            cases.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end),
            "",
            "closed_at",
            closed=Count("pk"),
            closed_on_time=Count("pk", filter=~Q(Exists(went_red))),
            satisfied=Count("pk", filter=Q(satisfaction__in=SATISFIED)),
            rated=Count("pk", filter=Q(satisfaction__in=RATED)),
        ),
        # went overdue in the month: a red warning (or a card) raised in it, the case not closed before
        # the month began (as the live count, which looks at the cases open during the month)
        _grouped(
            DeadlineAlert.objects.filter(
                tenant_id=tenant_id, level__gte=AlertLevel.RED, created_at__gte=start, created_at__lt=end
            )
            .exclude(case__status=Status.MERGED)
            .alias(
                raised=ExtractYear("created_at") * 12 + ExtractMonth("created_at"),
                closed=ExtractYear("case__closed_at") * 12 + ExtractMonth("case__closed_at"),
            )
            .filter(Q(case__closed_at__isnull=True) | Q(closed__gte=F("raised"))),
            "case__",
            "created_at",
            overdue=Count("case", distinct=True),
        ),
        # open at the month's end
        _open_at_month_ends(tenant_id, months),
        # supervision cards issued in the month
        _grouped(
            SupervisionOrder.objects.filter(
                tenant_id=tenant_id,
                created_at__gte=start,
                created_at__lt=end,
                grade__in=[Grade.YELLOW, Grade.RED],
            ).exclude(status=OrderStatus.WITHDRAWN),
            "",
            "created_at",
            yellow_cards=Count("pk", filter=Q(grade=Grade.YELLOW)),
            red_cards=Count("pk", filter=Q(grade=Grade.RED)),
        ),
        # households visited in the month
        _grouped(
            Visit.objects.filter(tenant_id=tenant_id, visited_on__gte=first, visited_on__lte=_last_day(last)),
            "",
            "visited_on",
            visited=Count("household", distinct=True),
        ),
    ]
    root_id = _root_id(tenant_id)
    at = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant_id])
                # The groupings of a city's cases (a row per plot and month) sort in memory, not on disk.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        MonthlyFigure.objects.filter(tenant_id=tenant_id, month__gte=first, month__lte=last).delete()
        _write(tenant_id, root_id, at, months, families)
        return MonthlyFigure.objects.filter(tenant_id=tenant_id, month__gte=first, month__lte=last).count()


def _last_day(month: dt.date) -> dt.date:
    return _add_months(month, 1) - dt.timedelta(days=1)


def _root_id(tenant_id: int) -> int:
    from grids import tree

    return tree.tenant_root(tenant_id).pk


def tenant_ids() -> list[int]:
    return list(Tenant.objects.order_by("pk").values_list("pk", flat=True))


# --- read --------------------------------------------------------------------------------------------


@dataclass
class Stored:
    """The summary rows of a node and its children over a range of months."""

    covered: set[dt.date] = field(default_factory=set)  # the months the summary holds
    rows: dict[tuple[int, dt.date], MonthlyFigure] = field(default_factory=dict)
    refreshed_at: dt.datetime | None = None

    def get(self, node_id: int, month: dt.date) -> MonthlyFigure | None:
        return self.rows.get((node_id, month))


def stored(*, tenant_id: int, node_ids: list[int], first: dt.date, last: dt.date) -> Stored:
    """One query: the rows of `node_ids` and the city root's (which mark the months covered) for
    `first`..`last`; nothing when the summary is disabled."""
    out = Stored()
    if _disabled:
        return out
    this_month = timezone.localdate().replace(day=1)
    last = min(last, _add_months(this_month, -1))
    if last < first:
        return out
    rows = MonthlyFigure.objects.filter(tenant_id=tenant_id, month__gte=first, month__lte=last).filter(
        Q(node_id__in=node_ids) | Q(level=Level.CITY)
    )
    for row in rows:
        if row.level == Level.CITY:
            out.covered.add(row.month)
            if out.refreshed_at is None or row.refreshed_at < out.refreshed_at:
                out.refreshed_at = row.refreshed_at
        out.rows[(row.node_id, row.month)] = row
    return out
