"""Deadlines that bite: the set-based scan, graded supervision orders (督办单) that climb the tiers,
manual orders, replies and reviews. Every change is on the case's timeline; notices go through
`teams.inbox`.

The scan (`deadlines_scan`, one city at a time) works in batches, each one transaction:

1. claim due rows: ``SELECT ... WHERE next_check_at <= now ... FOR NO KEY UPDATE SKIP LOCKED LIMIT n``
   (a case's `next_check_at` is in its `DeadlineWatch` row; a second worker skips the rows the
   first holds and takes the next ones);
2. advance them in one conditional UPDATE: the new level is computed from the row's own thresholds
   and written only where it is higher than the level the row has (``alert_level < new``), with the
   next moment to look (`next_check_at`) — a rerun finds nothing to raise;
3. insert the overdue marks, timeline entries and orders with INSERT ... SELECT, the marks and orders
   with ON CONFLICT DO NOTHING on their unique keys; then the inbox items, keyed per recipient.

On PostgreSQL a batch of cases is a single statement: the three steps are data-modifying CTEs over
the claimed rows, the inbox items derived in SQL from the orders just written (`_CASES_SQL`,
`teams.inbox.deliver_cte`); only four counts come back. See bench/supervision_scan_results.md.

Besides the levels, two day reminders (Reminded, in the same UPDATE): when work starts on the working
day before the deadline's day and when it starts on that day, to the responsible person and unit (or
the assisting unit for its part), each once by its inbox key.

Levels (AlertLevel): 1 deadline near (a reminder), 2 overdue (an ordinary order), 3 yellow card,
4 red card, the card thresholds in working time past the deadline (the city's `SupervisionPolicy`).
An order is issued by the tier above the case's (the city for a city case), addressed to the
responsible unit (or, before dispatch, the office of the tier handling the case) and its
responsible person. An order unanswered by its reply deadline climbs one tier and its grade rises.
No Python loop of queries per case: each batch costs a fixed number of statements.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Level, Tenant
from teams import inbox
from teams.units import unit_ids_of

from . import calendar, policy, rules
from .models import (
    OPEN_STATUSES,
    TIMED_STATUSES,
    Case,
    CaseEvent,
    CasePart,
    DeadlineWatch,
    Grade,
    OrderStatus,
    PartStatus,
    Reminded,
    SupervisionOrder,
    Tier,
)

if TYPE_CHECKING:
    from teams.models import User

BATCH = 5000
_ISSUER = "CASE c.tier WHEN 'cell' THEN 'township' ELSE 'city' END"
# The office of the tier that handles the case (the addressee before a unit is named).
_TIER_OFFICE = (
    "(SELECT u.id FROM teams_unit u WHERE u.tenant_id = c.tenant_id AND u.is_active AND u.node_id = "
    "CASE c.tier WHEN 'cell' THEN c.cell_id WHEN 'township' THEN c.township_id ELSE c.city_id END "
    "ORDER BY u.id LIMIT 1)"
)
# The office of the tier that issued an order (it is told about the order too).
_ISSUER_OFFICE = (
    "(SELECT u.id FROM teams_unit u WHERE u.tenant_id = o.tenant_id AND u.is_active AND u.node_id = "
    "CASE o.tier WHEN 'township' THEN o.township_id ELSE o.city_id END ORDER BY u.id LIMIT 1)"
)
_ORDER_COLUMNS = (
    "tenant_id, city_id, township_id, cell_id, plot_id, case_id, part_id, deadline_seq, tier, grade, "
    "unit_id, person_id, status, key, manual, reason, issued_by_id, parent_id, created_at, reply_due_at, "
    "reply, replied_at, replied_by_id, review_note, reviewed_at, reviewed_by_id"
)
# An order about another subject than a case (see SupervisionOrder) carries these too when it climbs.
_SUBJECT_COLUMNS = "subject_kind, subject_id, subject_label, subject_url"
_EVENT_COLUMNS = "tenant_id, case_id, at, actor_id, action, from_status, to_status, note, due_at, data"


@dataclass
class ScanResult:
    advanced: int = 0  # cases and parts whose level rose
    orders: int = 0  # orders written (graded and climbed)
    climbed: int = 0  # orders that climbed a tier
    delivered: int = 0  # inbox items written

    def add(self, other: ScanResult) -> None:
        self.advanced += other.advanced
        self.orders += other.orders
        self.climbed += other.climbed
        self.delivered += other.delivered


def _json(*pairs: str) -> str:
    fn = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"{fn}({', '.join(pairs)})"


def _least(a: str, b: str) -> str:
    """The earlier of two moments, either of which may be NULL."""
    if connection.vendor == "postgresql":
        return f"LEAST({a}, {b})"
    return f"MIN(COALESCE({a}, {b}), COALESCE({b}, {a}))"


def _greatest(a: str, b: str) -> str:
    fn = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{fn}({a}, {b})"


def _in(ids: Sequence[int]) -> str:
    return ", ".join(["%s"] * len(ids))


def _params(params: Sequence[Any]) -> list[Any]:
    """Moments as the backend stores them (SQLite compares UTC text)."""
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(p) if isinstance(p, dt.datetime) else p for p in params]


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(params))
        return list(cursor.fetchall()) if cursor.description else []


def _run(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(params))
        return cursor.rowcount


def _calendar(tenant_id: int, now: dt.datetime) -> calendar.WorkCalendar:
    tz_name = Tenant.objects.filter(pk=tenant_id).values_list("time_zone", flat=True).first()
    return calendar.load(tenant_id, tz_name or settings.TIME_ZONE, now)


def reply_due(tenant_id: int, now: dt.datetime) -> dt.datetime:
    """When an order issued now must be answered: the city's reply time, in working time."""
    return _calendar(tenant_id, now).add(now, policy.supervision_policy(tenant_id).reply_hours * 60)


# --- the scan -------------------------------------------------------------------------------------


def deadlines_scan(
    *, tenant_id: int, now: dt.datetime | None = None, batch: int = BATCH, workers: int | None = None
) -> ScanResult:
    """Raise every reminder, overdue mark and card due in one city, and climb late orders.

    Runs until nothing is due (no cap leaving a backlog); a second run right after writes nothing.
    On PostgreSQL, outside a transaction, the cases are worked on `workers` connections at once
    (`SUPERVISION_SCAN_WORKERS`): each claims its own batches, SKIP LOCKED keeps them apart.
    """
    now = now or timezone.now()
    due = reply_due(tenant_id, now)
    workers = settings.SUPERVISION_SCAN_WORKERS if workers is None else workers
    parallel = workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
    total = ScanResult()
    for step in (_cases_batch, _parts_batch, _climb_batch):
        if parallel and step is _cases_batch:
            for result in _on_connections(workers, _drain, step, tenant_id, now, due, batch):
                total.add(result)
        else:
            total.add(_drain(step, tenant_id, now, due, batch))
    return total


def _drain(step: Callable[..., tuple[int, ScanResult]], *args: Any) -> ScanResult:
    """Batches of one step, each its own transaction, until nothing more is due for this worker."""
    batch = args[-1]
    total = ScanResult()
    while True:
        with transaction.atomic():
            claimed, result = step(*args)
        total.add(result)
        # Stop when the claim came up short, or nothing moved (rows another worker holds).
        if claimed < batch or not (result.advanced or result.climbed):
            return total


def _on_connections(workers: int, fn: Callable[..., ScanResult], *args: Any) -> list[ScanResult]:
    """`fn(*args)` in `workers` threads, each on its own database connection (closed after), in the
    caller's language (the notices' subjects)."""
    language = translation.get_language()

    def run() -> ScanResult:
        try:
            with translation.override(language):
                return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run) for _ in range(workers)]
        return [future.result() for future in futures]


def _next_check(t: str, near: str, level: str, reminded: str, *, postgres: bool = False) -> str:
    """When to look again at a row of `t` at warning `level` with `reminded` day reminders sent."""
    next_level = (
        f"CASE {level} WHEN 0 THEN {t}.{near} WHEN 1 THEN {t}.due_at WHEN 2 THEN {t}.yellow_card_at "
        f"WHEN 3 THEN {t}.red_card_at ELSE NULL END"
    )
    next_reminder = f"CASE {reminded} WHEN 0 THEN {t}.day_before_at WHEN 1 THEN {t}.on_day_at ELSE NULL END"
    return f"LEAST({next_level}, {next_reminder})" if postgres else _least(next_level, next_reminder)


def _advance(table: str, near: str, ids: list[int], now: dt.datetime) -> list[tuple[Any, ...]]:
    """One conditional UPDATE over claimed rows: the warning level and the day reminders reached
    now, written only where one of them rises, with the next moment to look; returns (id, level,
    reminded) of the rows that moved. A case's next moment is in `cases_deadlinewatch`."""
    t = table
    watched = t == "cases_case"
    next_check = "" if watched else f", next_check_at = {_next_check(t, near, 'n.level', 'n.reminded')}"
    rows = _fetch(
        f"""
        UPDATE {t} SET alert_level = n.level, reminded = n.reminded{next_check}
        FROM (SELECT id, {_greatest("was", "reached")} AS level,
                {_greatest("was_reminded", "reached_reminder")} AS reminded
              FROM (SELECT id, alert_level AS was, reminded AS was_reminded,
                      CASE WHEN red_card_at <= %s THEN 4 WHEN yellow_card_at <= %s THEN 3
                        WHEN due_at <= %s THEN 2 WHEN {near} <= %s THEN 1 ELSE 0 END AS reached,
                      CASE WHEN due_at <= %s OR on_day_at <= %s THEN 2 WHEN day_before_at <= %s THEN 1
                        ELSE 0 END AS reached_reminder
                    FROM {t} WHERE id IN ({_in(ids)})) AS r) AS n
        WHERE {t}.id = n.id AND ({t}.alert_level < n.level OR {t}.reminded < n.reminded)
        RETURNING {t}.id, {t}.alert_level, {t}.reminded
        """,  # noqa: S608
        [now] * 7 + ids,
    )
    if watched and rows:
        moved = [r[0] for r in rows]
        _run(
            f"""
            UPDATE cases_deadlinewatch SET next_check_at = (
                SELECT {_next_check("c", near, "c.alert_level", "c.reminded")}
                FROM cases_case c WHERE c.id = cases_deadlinewatch.case_id)
            WHERE case_id IN ({_in(moved)})
            """,  # noqa: S608
            moved,
        )
    return rows


# On PostgreSQL one statement does a batch of cases: the claim, the conditional UPDATE, the overdue
# marks, the supersession of lower orders, the new orders and every timeline entry, as
# data-modifying CTEs over the claimed rows (no id list goes back and forth); it returns what the
# notices need. The timeline entries are written in one INSERT ordered so the deadline's entry
# precedes its order's. No two CTEs are joined to each other (the planner cannot estimate their
# rows, and a nested loop between two of them is quadratic in the batch): the orders find their
# case's title and status by its primary key, the orders superseded are found by an array of case
# ids (computed once) on the index of orders by case.
_CASES_SQL = f"""
WITH claimed AS MATERIALIZED (
    SELECT c.id, c.alert_level AS was, c.reminded AS was_reminded,
        CASE WHEN c.red_card_at <= %(now)s THEN 4 WHEN c.yellow_card_at <= %(now)s THEN 3
            WHEN c.due_at <= %(now)s THEN 2 WHEN c.yellow_at <= %(now)s THEN 1 ELSE 0 END AS reached,
        CASE WHEN c.due_at <= %(now)s OR c.on_day_at <= %(now)s THEN 2 WHEN c.day_before_at <= %(now)s THEN 1
            ELSE 0 END AS reached_reminder
    FROM cases_deadlinewatch w JOIN cases_case c ON c.id = w.case_id
    WHERE w.tenant_id = %(tenant)s AND w.next_check_at <= %(now)s AND c.status = ANY(%(statuses)s)
    ORDER BY w.next_check_at
    LIMIT %(batch)s
    FOR NO KEY UPDATE OF w, c SKIP LOCKED
), n AS (
    SELECT id, was, was_reminded, GREATEST(was, reached) AS level,
        GREATEST(was_reminded, reached_reminder) AS reminded
    FROM claimed
), moved AS (
    -- Heap-only updates: no index of the case table holds these two columns.
    UPDATE cases_case c SET alert_level = n.level, reminded = n.reminded
    FROM n
    WHERE c.id = n.id AND (c.alert_level < n.level OR c.reminded < n.reminded)
    RETURNING c.id, c.tenant_id, c.city_id, c.township_id, c.cell_id, c.plot_id, c.tier, c.status, c.due_at,
        c.deadline_seq, c.title, c.responsible_unit_id, c.responsible_person_id, c.alert_level AS level,
        c.reminded, n.was, n.was_reminded, c.yellow_at, c.yellow_card_at, c.red_card_at, c.day_before_at,
        c.on_day_at
), watched AS (
    UPDATE cases_deadlinewatch w SET next_check_at = {_next_check("m", "yellow_at", "m.level", "m.reminded", postgres=True)}
    FROM moved m
    WHERE w.case_id = m.id
), raised AS (
    SELECT * FROM moved WHERE level > was
), marks AS (
    INSERT INTO cases_deadlinealert (tenant_id, case_id, deadline_seq, level, created_at)
    SELECT tenant_id, id, deadline_seq, level, %(now)s FROM raised
    ON CONFLICT DO NOTHING
), superseded AS (
    UPDATE cases_supervisionorder SET status = 'superseded'
    WHERE case_id = ANY(ARRAY(SELECT id FROM raised WHERE level >= 3)) AND part_id IS NULL AND status = 'open'
        AND manual = FALSE
), orders AS (
    INSERT INTO cases_supervisionorder ({_ORDER_COLUMNS})
    SELECT c.tenant_id, c.city_id, c.township_id, c.cell_id, c.plot_id, c.id, NULL, c.deadline_seq,
        {_ISSUER}, c.level - 1, COALESCE(c.responsible_unit_id, {_TIER_OFFICE}), c.responsible_person_id,
        'open', 'case:' || c.id || ':' || c.deadline_seq || ':' || (c.level - 1), FALSE, '', NULL, NULL,
        %(now)s, %(due)s, '', NULL, NULL, '', NULL, NULL
    FROM raised c WHERE c.level >= 2
    ON CONFLICT DO NOTHING
    RETURNING id, case_id, tenant_id, city_id, township_id, tier, grade, unit_id, person_id
), ordered AS MATERIALIZED (
    -- The new orders with what their timeline entry and notice show of the case, read once.
    SELECT o.*, c.status, c.due_at, c.title FROM orders o JOIN cases_case c ON c.id = o.case_id
), events AS (
    INSERT INTO cases_caseevent ({_EVENT_COLUMNS})
    SELECT tenant_id, case_id, %(now)s, NULL, action, status, status, '', due_at, data
    FROM (
        SELECT r.tenant_id, r.id AS case_id, 0 AS k,
            CASE r.level WHEN 1 THEN 'deadline_yellow' WHEN 2 THEN 'deadline_red'
                WHEN 3 THEN 'deadline_yellow_card' ELSE 'deadline_red_card' END AS action,
            r.status, r.due_at, jsonb_build_object('deadline_seq', r.deadline_seq, 'level', r.level) AS data
        FROM raised r
        UNION ALL
        SELECT o.tenant_id, o.case_id, 1, 'supervision_order', o.status, o.due_at,
            jsonb_build_object('order', o.id, 'grade', o.grade, 'tier', o.tier, 'unit', o.unit_id)
        FROM ordered o
    ) e
    ORDER BY case_id, k
), notice AS (
    SELECT 'supervision_order' AS kind, 'cases.supervisionorder' AS about_type,
        REPLACE(REPLACE(%(order_subject)s, '%%(grade)s', (%(grades)s::text[])[o.grade]), '%%(title)s', o.title)
            AS subject,
        %(order_url)s || o.id || '/' AS url, 'order:' || o.id AS key, o.id AS about_id,
        ARRAY[o.person_id] AS users, ARRAY[o.unit_id, {_ISSUER_OFFICE}] AS units
    FROM ordered o
    UNION ALL
    SELECT 'reminder', 'cases.case', REPLACE(%(near_subject)s, '%%(title)s', title), %(case_url)s || id || '/',
        'remind:' || id || ':' || deadline_seq, id, ARRAY[responsible_person_id], ARRAY[responsible_unit_id]
    FROM raised WHERE level = 1
    UNION ALL
    SELECT 'day_reminder', 'cases.case',
        REPLACE(CASE reminded WHEN 1 THEN %(day_before_subject)s ELSE %(on_day_subject)s END, '%%(title)s', title),
        %(case_url)s || id || '/', 'day:' || id || ':' || deadline_seq || ':' || reminded, id,
        ARRAY[responsible_person_id], ARRAY[responsible_unit_id]
    FROM moved WHERE level < 2 AND reminded > was_reminded
),{inbox.deliver_cte("notice")}
SELECT (SELECT count(*) FROM claimed), (SELECT count(*) FROM moved), (SELECT count(*) FROM orders),
    (SELECT count(*) FROM notice_item)
"""  # noqa: S608


def _cases_batch_pg(tenant_id: int, now: dt.datetime, due: dt.datetime, batch: int) -> tuple[int, ScanResult]:
    labels = [str(Grade(g).label) for g in sorted(Grade.values)]  # by grade: 1, 2, 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # compiling a one-off statement costs more than it saves
        cursor.execute(
            _CASES_SQL,
            {
                "tenant": tenant_id,
                "now": now,
                "due": due,
                "batch": batch,
                "statuses": list(TIMED_STATUSES),
                "grades": labels,
                "order_subject": _("%(grade)s: %(title)s"),
                "near_subject": _("Deadline near: %(title)s"),
                "day_before_subject": _("Due on the next working day: %(title)s"),
                "on_day_subject": _("Due today: %(title)s"),
                "order_url": _order_url(0).removesuffix("0/"),
                "case_url": _case_url(0).removesuffix("0/"),
                "inbox_tenant": tenant_id,
                "inbox_now": now,
            },
        )
        claimed, advanced, orders, delivered = cursor.fetchone()
    return claimed, ScanResult(advanced=advanced, orders=orders, delivered=delivered)


def _cases_batch(tenant_id: int, now: dt.datetime, due: dt.datetime, batch: int) -> tuple[int, ScanResult]:
    if connection.vendor == "postgresql":
        return _cases_batch_pg(tenant_id, now, due, batch)
    result = ScanResult()
    claimed = list(
        DeadlineWatch.objects.select_for_update(skip_locked=True, of=("self", "case"), no_key=True)
        .filter(tenant_id=tenant_id, next_check_at__lte=now, case__status__in=TIMED_STATUSES)
        .order_by("next_check_at")
        .values_list("case_id", "case__alert_level", "case__reminded")[:batch]
    )
    if not claimed:
        return 0, result
    ids = [c[0] for c in claimed]
    rows = _advance("cases_case", "yellow_at", ids, now)
    if not rows:
        return len(ids), result
    result.advanced = len(rows)
    was = {c[0]: c[1:] for c in claimed}
    raised = [r for r in rows if r[1] > was[r[0]][0]]
    reminders = [(r[0], r[2]) for r in rows if r[1] < 2 and r[2] > was[r[0]][1]]
    moved = [r[0] for r in raised]
    late = [r[0] for r in raised if r[1] >= 2]
    carded = [r[0] for r in raised if r[1] >= 3]
    if not moved:
        result.delivered = _remind_days(reminders, tenant_id, now, part=False)
        return len(ids), result
    # The overdue marks (one per case, deadline and level) and the timeline entries.
    _run(
        f"""
        INSERT INTO cases_deadlinealert (tenant_id, case_id, deadline_seq, level, created_at)
        SELECT tenant_id, id, deadline_seq, alert_level, %s FROM cases_case WHERE id IN ({_in(moved)})
        ON CONFLICT DO NOTHING
        """,  # noqa: S608
        [now, *moved],
    )
    _run(
        f"""
        INSERT INTO cases_caseevent ({_EVENT_COLUMNS})
        SELECT tenant_id, id, %s, NULL,
            CASE alert_level WHEN 1 THEN 'deadline_yellow' WHEN 2 THEN 'deadline_red'
                WHEN 3 THEN 'deadline_yellow_card' ELSE 'deadline_red_card' END,
            status, status, '', due_at, {_json("'deadline_seq'", "deadline_seq", "'level'", "alert_level")}
        FROM cases_case WHERE id IN ({_in(moved)})
        """,  # noqa: S608
        [now, *moved],
    )
    if carded:
        _supersede("case_id", carded)
    orders: list[int] = []
    if late:
        orders = [
            r[0]
            for r in _fetch(
                f"""
                INSERT INTO cases_supervisionorder ({_ORDER_COLUMNS})
                SELECT c.tenant_id, c.city_id, c.township_id, c.cell_id, c.plot_id, c.id, NULL, c.deadline_seq,
                    {_ISSUER}, c.alert_level - 1, COALESCE(c.responsible_unit_id, {_TIER_OFFICE}),
                    c.responsible_person_id, 'open',
                    'case:' || CAST(c.id AS TEXT) || ':' || CAST(c.deadline_seq AS TEXT) || ':'
                        || CAST(c.alert_level - 1 AS TEXT),
                    FALSE, '', NULL, NULL, %s, %s, '', NULL, NULL, '', NULL, NULL
                FROM cases_case c WHERE c.id IN ({_in(late)})
                ON CONFLICT DO NOTHING
                RETURNING id
                """,  # noqa: S608
                [now, due, *late],
            )
        ]
    result.orders = len(orders)
    _order_events(orders, "supervision_order", now)
    result.delivered = (
        _remind_cases([r[0] for r in raised if r[1] == 1], tenant_id, now)
        + _notify_orders(orders, tenant_id, now)
        + _remind_days(reminders, tenant_id, now, part=False)
    )
    return len(ids), result


def _parts_batch(tenant_id: int, now: dt.datetime, due: dt.datetime, batch: int) -> tuple[int, ScanResult]:
    result = ScanResult()
    claimed = list(
        CasePart.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(tenant_id=tenant_id, next_check_at__lte=now, status=PartStatus.OPEN)
        .order_by("next_check_at")
        .values_list("pk", "alert_level", "reminded")[:batch]
    )
    if not claimed:
        return 0, result
    ids = [c[0] for c in claimed]
    rows = _advance("cases_casepart", "remind_at", ids, now)
    if not rows:
        return len(ids), result
    result.advanced = len(rows)
    was = {c[0]: c[1:] for c in claimed}
    raised = [r for r in rows if r[1] > was[r[0]][0]]
    reminders = [(r[0], r[2]) for r in rows if r[1] < 2 and r[2] > was[r[0]][1]]
    moved = [r[0] for r in raised]
    late = [r[0] for r in raised if r[1] >= 2]
    if not moved:
        result.delivered = _remind_days(reminders, tenant_id, now, part=True)
        return len(ids), result
    _run(
        f"""
        INSERT INTO cases_caseevent ({_EVENT_COLUMNS})
        SELECT p.tenant_id, p.case_id, %s, NULL,
            CASE WHEN p.alert_level = 1 THEN 'part_reminder' ELSE 'part_overdue' END, c.status, c.status, '',
            p.due_at, {_json("'part'", "p.id", "'unit'", "p.unit_id", "'level'", "p.alert_level")}
        FROM cases_casepart p JOIN cases_case c ON c.id = p.case_id WHERE p.id IN ({_in(moved)})
        """,  # noqa: S608
        [now, *moved],
    )
    carded = [r[0] for r in raised if r[1] >= 3]
    if carded:
        _supersede("part_id", carded)
    orders: list[int] = []
    if late:
        orders = [
            r[0]
            for r in _fetch(
                f"""
                INSERT INTO cases_supervisionorder ({_ORDER_COLUMNS})
                SELECT c.tenant_id, c.city_id, c.township_id, c.cell_id, c.plot_id, c.id, p.id, c.deadline_seq,
                    {_ISSUER}, p.alert_level - 1, p.unit_id, NULL, 'open',
                    'part:' || CAST(p.id AS TEXT) || ':' || CAST(p.alert_level - 1 AS TEXT),
                    FALSE, '', NULL, NULL, %s, %s, '', NULL, NULL, '', NULL, NULL
                FROM cases_casepart p JOIN cases_case c ON c.id = p.case_id WHERE p.id IN ({_in(late)})
                ON CONFLICT DO NOTHING
                RETURNING id
                """,  # noqa: S608
                [now, due, *late],
            )
        ]
    result.orders = len(orders)
    _order_events(orders, "supervision_order", now)
    result.delivered = (
        _remind_parts([r[0] for r in raised if r[1] == 1], tenant_id, now)
        + _notify_orders(orders, tenant_id, now)
        + _remind_days(reminders, tenant_id, now, part=True)
    )
    return len(ids), result


def _climb_batch(tenant_id: int, now: dt.datetime, due: dt.datetime, batch: int) -> tuple[int, ScanResult]:
    """Open orders past their reply deadline climb one tier (township -> city), one grade up."""
    result = ScanResult()
    ids = list(
        SupervisionOrder.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(tenant_id=tenant_id, status=OrderStatus.OPEN, reply_due_at__lte=now)
        .exclude(tier=Tier.CITY, grade=Grade.RED)  # the top: it stays open, late, on the city's page
        .order_by("reply_due_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0, result
    climbed = [
        r[0]
        for r in _fetch(
            f"UPDATE cases_supervisionorder SET status = 'climbed' WHERE id IN ({_in(ids)}) AND status = 'open' "  # noqa: S608
            "RETURNING id",
            ids,
        )
    ]
    result.climbed = len(climbed)
    if not climbed:
        return len(ids), result
    orders = [
        r[0]
        for r in _fetch(
            f"""
            INSERT INTO cases_supervisionorder ({_ORDER_COLUMNS}, {_SUBJECT_COLUMNS})
            SELECT o.tenant_id, o.city_id, o.township_id, o.cell_id, o.plot_id, o.case_id, o.part_id,
                o.deadline_seq, 'city', CASE WHEN o.grade < 3 THEN o.grade + 1 ELSE 3 END, o.unit_id, o.person_id,
                'open', 'climb:' || CAST(o.id AS TEXT), FALSE, '', NULL, o.id, %s, %s, '', NULL, NULL, '', NULL, NULL,
                o.subject_kind, o.subject_id, o.subject_label, o.subject_url
            FROM cases_supervisionorder o WHERE o.id IN ({_in(climbed)})
            ON CONFLICT DO NOTHING
            RETURNING id
            """,  # noqa: S608
            [now, due, *climbed],
        )
    ]
    result.orders = len(orders)
    _order_events(orders, "supervision_climb", now)
    result.delivered = _notify_orders(orders, tenant_id, now)
    return len(ids), result


def _supersede(column: str, ids: list[int]) -> None:
    """Open system orders of a case (or part) give way to the higher grade about to be written."""
    extra = " AND part_id IS NULL" if column == "case_id" else ""
    _run(
        f"UPDATE cases_supervisionorder SET status = 'superseded' WHERE {column} IN ({_in(ids)}){extra} "  # noqa: S608
        "AND status = 'open' AND manual = FALSE",
        ids,
    )


def _order_events(order_ids: list[int], action: str, now: dt.datetime) -> None:
    if not order_ids:
        return
    _run(
        f"""
        INSERT INTO cases_caseevent ({_EVENT_COLUMNS})
        SELECT o.tenant_id, o.case_id, %s, NULL, %s, c.status, c.status, '', c.due_at,
            {_json("'order'", "o.id", "'grade'", "o.grade", "'tier'", "o.tier", "'unit'", "o.unit_id")}
        FROM cases_supervisionorder o JOIN cases_case c ON c.id = o.case_id WHERE o.id IN ({_in(order_ids)})
        """,  # noqa: S608
        [now, action, *order_ids],
    )


# --- notices --------------------------------------------------------------------------------------


def _order_url(order_id: int) -> str:
    return reverse("cases:order", args=[order_id])


def _case_url(case_id: int) -> str:
    return reverse("cases:detail", args=[case_id])


def _notify_orders(order_ids: list[int], tenant_id: int, now: dt.datetime) -> int:
    """Inbox items for new orders: the addressed unit, the responsible person and the issuing office."""
    if not order_ids:
        return 0
    rows = _fetch(
        f"""
        SELECT o.id, o.grade, o.unit_id, o.person_id, {_ISSUER_OFFICE}, COALESCE(c.title, o.subject_label)
        FROM cases_supervisionorder o LEFT JOIN cases_case c ON c.id = o.case_id WHERE o.id IN ({_in(order_ids)})
        """,  # noqa: S608
        order_ids,
    )
    return _deliver_orders(rows, tenant_id, now)


def _deliver_orders(rows: Sequence[Sequence[Any]], tenant_id: int, now: dt.datetime) -> int:
    """The inbox items of new orders from rows (id, grade, unit, person, issuing office, case title, ...)."""
    if not rows:
        return 0
    labels = {g: Grade(g).label for g in Grade.values}
    base = _order_url(0).removesuffix("0/")  # reverse() once, not per order
    notices = [
        inbox.Notice(
            subject=_("%(grade)s: %(title)s") % {"grade": labels[grade], "title": title},
            url=f"{base}{pk}/",
            key=f"order:{pk}",
            about_id=pk,
            users=(person,) if person else (),
            units=tuple(u for u in (unit, office) if u),
        )
        for pk, grade, unit, person, office, title, *_rest in rows
    ]
    return inbox.deliver_many(
        tenant_id=tenant_id,
        kind="supervision_order",
        about_type="cases.supervisionorder",
        notices=notices,
        now=now,
    )


def _remind_cases(case_ids: list[int], tenant_id: int, now: dt.datetime) -> int:
    if not case_ids:
        return 0
    rows = Case.objects.filter(pk__in=case_ids).values_list(
        "pk", "deadline_seq", "title", "responsible_unit_id", "responsible_person_id"
    )
    return _deliver_near(
        [(pk, 0, unit, person, None, title, seq) for pk, seq, title, unit, person in rows], tenant_id, now
    )


def _deliver_near(rows: Sequence[Sequence[Any]], tenant_id: int, now: dt.datetime) -> int:
    """'Deadline near' items from rows (case, -, unit, person, -, title, deadline number)."""
    if not rows:
        return 0
    notices = [
        inbox.Notice(
            subject=_("Deadline near: %(title)s") % {"title": title},
            url=_case_url(pk),
            key=f"remind:{pk}:{seq}",
            about_id=pk,
            users=(person,) if person else (),
            units=(unit,) if unit else (),
        )
        for pk, _stage, unit, person, _office, title, seq in rows
    ]
    return inbox.deliver_many(
        tenant_id=tenant_id, kind="reminder", about_type="cases.case", notices=notices, now=now
    )


def _remind_parts(part_ids: list[int], tenant_id: int, now: dt.datetime) -> int:
    if not part_ids:
        return 0
    rows = CasePart.objects.filter(pk__in=part_ids).values_list("pk", "case_id", "case__title", "unit_id")
    notices = [
        inbox.Notice(
            subject=_("Deadline of your part near: %(title)s") % {"title": title},
            url=_case_url(case_id),
            key=f"remind-part:{pk}",
            about_id=case_id,
            units=(unit,),
        )
        for pk, case_id, title, unit in rows
    ]
    return inbox.deliver_many(
        tenant_id=tenant_id, kind="reminder", about_type="cases.case", notices=notices, now=now
    )


def _remind_days(reminders: list[tuple[int, int]], tenant_id: int, now: dt.datetime, *, part: bool) -> int:
    """The reminders one working day before a deadline and on its day, to the responsible person and
    unit of a case or to an assisting unit for its part; once each (the key names the deadline and
    the reminder). A reminder passed over by the next one (a scan that ran late) is not sent."""
    if not reminders:
        return 0
    stage = dict(reminders)
    notices = []
    if part:
        for pk, case_id, title, unit in CasePart.objects.filter(pk__in=stage).values_list(
            "pk", "case_id", "case__title", "unit_id"
        ):
            notices.append(
                inbox.Notice(
                    subject=_day_subject(stage[pk], title, part=True),
                    url=_case_url(case_id),
                    key=f"day-part:{pk}:{stage[pk]}",
                    about_id=case_id,
                    units=(unit,),
                )
            )
    else:
        rows = Case.objects.filter(pk__in=stage).values_list(
            "pk", "deadline_seq", "title", "responsible_unit_id", "responsible_person_id"
        )
        return _deliver_days(
            [(pk, stage[pk], unit, person, None, title, seq) for pk, seq, title, unit, person in rows],
            tenant_id,
            now,
        )
    return inbox.deliver_many(
        tenant_id=tenant_id, kind="day_reminder", about_type="cases.case", notices=notices, now=now
    )


def _deliver_days(rows: Sequence[Sequence[Any]], tenant_id: int, now: dt.datetime) -> int:
    """Day reminders of cases from rows (case, reminder, unit, person, -, title, deadline number)."""
    if not rows:
        return 0
    notices = [
        inbox.Notice(
            subject=_day_subject(stage, title, part=False),
            url=_case_url(pk),
            key=f"day:{pk}:{seq}:{stage}",
            about_id=pk,
            users=(person,) if person else (),
            units=(unit,) if unit else (),
        )
        for pk, stage, unit, person, _office, title, seq in rows
    ]
    return inbox.deliver_many(
        tenant_id=tenant_id, kind="day_reminder", about_type="cases.case", notices=notices, now=now
    )


def _day_subject(stage: int, title: str, *, part: bool) -> str:
    if stage == Reminded.DAY_BEFORE:
        text = (
            _("Your part is due on the next working day: %(title)s")
            if part
            else _("Due on the next working day: %(title)s")
        )
    else:
        text = _("Your part is due today: %(title)s") if part else _("Due today: %(title)s")
    return text % {"title": title}


def tenant_ids() -> list[int]:
    return list(Tenant.objects.order_by("pk").values_list("pk", flat=True))


# --- orders by hand, replies, reviews -------------------------------------------------------------


def _issuing_tier(actor: User, case: Case | SupervisionOrder) -> str | None:
    """The highest tier (city, then township) at which the actor manages cases over this case (or
    over the grid of an order about another subject: it carries the same ancestor columns)."""
    if scoping.is_unrestricted(actor):
        return Tier.CITY
    if getattr(actor, "tenant_id", None) != case.tenant_id:
        return None
    levels = [
        g.level
        for g in scoping.grants(actor, rules.MANAGE_CASES)
        if g.level <= Level.TOWNSHIP and getattr(case, scoping.LEVEL_COLUMN[Level(g.level)]) == g.node_id
    ]
    if not levels:
        return None
    return Tier.CITY if min(levels) == Level.CITY else Tier.TOWNSHIP


def may_issue(actor: User, case: Case) -> bool:
    """May the actor issue an order by hand on this case (a city or township case manager over it)?"""
    return _issuing_tier(actor, case) is not None


def _event(
    case: Case, actor: User | None, action: str, note: str, data: dict[str, Any], now: dt.datetime
) -> None:
    CaseEvent.objects.create(
        tenant_id=case.tenant_id,
        case=case,
        actor=actor,
        action=action,
        from_status=case.status,
        to_status=case.status,
        note=note,
        due_at=case.due_at,
        data=data,
        at=now,
    )


def order_issue(*, actor: User, case: Case, grade: int, reason: str) -> SupervisionOrder:
    """A city or township user issues an order by hand on a case in scope, with a reason."""
    tier = _issuing_tier(actor, case)
    if tier is None:
        raise PermissionDenied(_("Only city or township case managers over this case may issue an order."))
    if grade not in Grade.values:
        raise ValidationError({"grade": [_("Choose ordinary, yellow card or red card.")]})
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": [_("Give a reason.")]})
    now = timezone.now()
    with transaction.atomic():
        fresh = Case.objects.select_for_update().get(pk=case.pk)
        if fresh.status not in OPEN_STATUSES:
            raise ValidationError(_("The case is closed: no supervision order can be issued on it."))
        unit_id = fresh.responsible_unit_id
        if unit_id is None:
            unit_id = _fetch(
                f"SELECT {_TIER_OFFICE} FROM cases_case c WHERE c.id = %s",  # noqa: S608
                [fresh.pk],
            )[0][0]
        order = SupervisionOrder.objects.create(
            tenant_id=fresh.tenant_id,
            city_id=fresh.city_id,
            township_id=fresh.township_id,
            cell_id=fresh.cell_id,
            plot_id=fresh.plot_id,
            case=fresh,
            deadline_seq=fresh.deadline_seq,
            tier=tier,
            grade=grade,
            unit_id=unit_id,
            person_id=fresh.responsible_person_id,
            key=f"manual:{fresh.pk}:{uuid.uuid4().hex}",
            manual=True,
            reason=text,
            issued_by=actor,
            created_at=now,
            reply_due_at=reply_due(fresh.tenant_id, now),
        )
        _event(
            fresh, actor, "supervision_order", text, {"order": order.pk, "grade": grade, "tier": tier}, now
        )
        _notify_orders([order.pk], fresh.tenant_id, now)
    return order


def _may_reply(actor: User, order: SupervisionOrder) -> bool:
    if getattr(actor, "tenant_id", None) != order.tenant_id:
        return False
    return order.person_id == actor.pk or (order.unit_id is not None and order.unit_id in unit_ids_of(actor))


def order_reply(*, actor: User, order: SupervisionOrder, reply: str) -> SupervisionOrder:
    """The addressed unit (or the responsible person) answers an open order."""
    if not _may_reply(actor, order):
        raise PermissionDenied(_("Only the unit the order is addressed to may answer it."))
    text = (reply or "").strip()
    if not text:
        raise ValidationError({"reply": [_("Write the reply.")]})
    now = timezone.now()
    with transaction.atomic():
        rows = SupervisionOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=OrderStatus.REPLIED, reply=text, replied_at=now, replied_by=actor
        )
        if rows != 1:
            raise ValidationError(_("This order is not waiting for a reply."))
        case = Case.objects.get(pk=order.case_id) if order.case_id else None
        if case is not None:
            _event(case, actor, "supervision_reply", text, {"order": order.pk}, now)
        recipients: list[Any] = [order.issued_by] if order.issued_by_id else []
        office = _fetch(f"SELECT {_ISSUER_OFFICE} FROM cases_supervisionorder o WHERE o.id = %s", [order.pk])[  # noqa: S608
            0
        ][0]
        inbox.deliver_many(
            tenant_id=order.tenant_id,
            kind="supervision_reply",
            about_type="cases.supervisionorder",
            notices=[
                inbox.Notice(
                    subject=_("Reply to a supervision order: %(title)s")
                    % {"title": case.title if case else order.subject_label},
                    url=_order_url(order.pk),
                    key=f"reply:{order.pk}:{now.timestamp()}",
                    about_id=order.pk,
                    users=tuple(u.pk for u in recipients),
                    units=(office,) if office else (),
                )
            ],
            now=now,
        )
    order.refresh_from_db()
    return order


def may_review(actor: User, order: SupervisionOrder, case: Case | None) -> bool:
    tier = _issuing_tier(actor, case if case is not None else order)
    return tier is not None and (tier == Tier.CITY or tier == order.tier)


def order_review(*, actor: User, order: SupervisionOrder, accept: bool, note: str = "") -> SupervisionOrder:
    """The issuing tier accepts a reply (the order closes) or sends it back (a new reply deadline)."""
    case = Case.objects.get(pk=order.case_id) if order.case_id else None
    if not may_review(actor, order, case):
        raise PermissionDenied(_("Only the tier that issued the order may review the reply."))
    text = (note or "").strip()
    if not accept and not text:
        raise ValidationError({"note": [_("Say why the reply is not enough.")]})
    now = timezone.now()
    with transaction.atomic():
        values: dict[str, Any] = {"review_note": text, "reviewed_at": now, "reviewed_by": actor}
        if accept:
            values["status"] = OrderStatus.CLOSED
        else:
            values.update(status=OrderStatus.OPEN, reply_due_at=reply_due(order.tenant_id, now))
        rows = SupervisionOrder.objects.filter(pk=order.pk, status=OrderStatus.REPLIED).update(**values)
        if rows != 1:
            raise ValidationError(_("This order has no reply waiting for review."))
        if case is not None:
            _event(case, actor, "supervision_review", text, {"order": order.pk, "accepted": accept}, now)
        inbox.deliver_many(
            tenant_id=order.tenant_id,
            kind="supervision_review",
            about_type="cases.supervisionorder",
            notices=[
                inbox.Notice(
                    subject=(_("Reply accepted: %(title)s") if accept else _("Reply sent back: %(title)s"))
                    % {"title": case.title if case else order.subject_label},
                    url=_order_url(order.pk),
                    key=f"review:{order.pk}:{now.timestamp()}",
                    about_id=order.pk,
                    users=(order.person_id,) if order.person_id else (),
                    units=(order.unit_id,) if order.unit_id else (),
                )
            ],
            now=now,
        )
    order.refresh_from_db()
    return order


def orders_withdraw(*, case: Case, now: dt.datetime) -> int:
    """A case that is closed, merged or sent back: its orders stop waiting (called inside the transition)."""
    return SupervisionOrder.objects.filter(
        case_id=case.pk, status__in=[OrderStatus.OPEN, OrderStatus.REPLIED]
    ).update(status=OrderStatus.WITHDRAWN)


# --- orders about other subjects (a late review, an overdue meeting decision) ---------------------


@dataclass(frozen=True)
class OrderSubject:
    """Late work of a higher app that a supervision order follows up like a case: its kind (e.g.
    `mechanisms.disputereview`), id, label and page, and the grid whose ancestor columns scope it."""

    kind: str
    id: int
    label: str
    url: str
    city_id: int
    township_id: int | None = None
    cell_id: int | None = None
    plot_id: int | None = None


def order_raise_on_subject(
    *,
    tenant_id: int,
    subject: OrderSubject,
    tier: str,
    unit_id: int | None,
    grade: int = Grade.ORDINARY,
    reason: str = "",
    now: dt.datetime | None = None,
) -> SupervisionOrder | None:
    """A system order from `tier` to `unit_id` about a subject that is not a case, once per subject,
    tier and grade (the unique key stops a second run); told through the inbox like a case's order.
    It climbs and is answered and reviewed like the others. Returns the new order, or None if it
    existed already. Runs in the caller's transaction."""
    now = now or timezone.now()
    key = f"subject:{subject.kind}:{subject.id}:{tier}:{int(grade)}"
    if len(key) > 80 or not subject.kind:
        raise ValueError(key)
    try:
        with transaction.atomic():
            order = SupervisionOrder.objects.create(
                tenant_id=tenant_id,
                city_id=subject.city_id,
                township_id=subject.township_id,
                cell_id=subject.cell_id,
                plot_id=subject.plot_id,
                case=None,
                subject_kind=subject.kind,
                subject_id=subject.id,
                subject_label=subject.label[:200],
                subject_url=subject.url[:200],
                tier=tier,
                grade=grade,
                unit_id=unit_id,
                key=key,
                reason=reason,
                created_at=now,
                reply_due_at=reply_due(tenant_id, now),
            )
    except IntegrityError:
        return None
    _notify_orders([order.pk], tenant_id, now)
    return order


def orders_withdraw_subject(*, tenant_id: int, kind: str, subject_id: int) -> int:
    """The subject's work is done (the review signed off, the decision carried out): its orders stop
    waiting."""
    return SupervisionOrder.objects.filter(
        tenant_id=tenant_id,
        case__isnull=True,
        subject_kind=kind,
        subject_id=subject_id,
        status__in=[OrderStatus.OPEN, OrderStatus.REPLIED],
    ).update(status=OrderStatus.WITHDRAWN)
