"""`make bench-supervision`: the deadline scan over 1,000,000 open cases, 50,000 of them just overdue.

Builds its dataset once (`--reload` rebuilds) in its own PostgreSQL database, ruian_bench_supervision
(or BENCH_SUPERVISION_DB) on the server BENCH_DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/), written by the
database itself (INSERT ... SELECT over generate_series, then ANALYZE): one city of 10 townships x 10
villages x 2 plots, 20 member departments and the township and city offices (two members each), and
1,000,000 cases in hand, one in twenty overdue a minute ago and the rest due within two weeks.

Then, at a fixed moment:
1. one scan (`cases.supervision.deadlines_scan`) over the whole city, timed, the rows of each table
   counted before and after (every overdue case: a mark, a timeline entry, an ordinary order and its
   entry, inbox items for the unit, the person and the issuing office);
2. a second scan right after, timed, which must write nothing;
3. the baseline: the same rows written by six plain set-based statements over all due cases at
   once (no claim, batches or Python), rolled back;
4. after putting the 50,000 cases back, a third scan that runs EXPLAIN (ANALYZE, BUFFERS) of each
   statement's first batch inside a savepoint, rolls it back and then runs the statement itself.
Prints the figures and writes them with the plans to bench/supervision_scan_results.md
(`--no-write` only prints). Never part of `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
args.add_argument("--cases", type=int, default=1_000_000)
args.add_argument("--overdue-every", type=int, default=20, help="one case in N is overdue (5%%)")
args.add_argument("--batch", type=int, default=None, help="claim batch size (default: the scan's)")
args.add_argument(
    "--workers", type=int, default=None, help="connections at once (default: SUPERVISION_SCAN_WORKERS)"
)
args.add_argument("--reload", action="store_true", help="rebuild the dataset")
args.add_argument("--no-write", action="store_true", help="print only")
args.add_argument("--scan-only", action="store_true", help="the two scans only: no baseline, no plans, print")
args.add_argument(
    "--json", type=Path, default=None, help="write the figures for `make bench`'s table here (no plans)"
)
OPTIONS = args.parse_args()

base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
NAME = os.environ.get("BENCH_SUPERVISION_DB", "ruian_bench_supervision")
URL = urlunsplit(urlsplit(base)._replace(path=f"/{NAME}"))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database(URL)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# As in production: no debug cursor keeping every statement's text (each batch binds thousands of ids).
settings.DEBUG = False

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from cases import supervision  # noqa: E402
from cases.models import Case, CaseEvent, DeadlineAlert, DeadlineWatch, SupervisionOrder  # noqa: E402
from grids import tree  # noqa: E402
from grids.models import GridNode, Kind, Level, Tenant  # noqa: E402
from ruian_grid import db  # noqa: E402
from teams import selectors  # noqa: E402
from teams.inbox_models import Delivery, InboxItem  # noqa: E402
from teams.models import Unit, UnitKind, User  # noqa: E402
from teams.roles import Role  # noqa: E402
from teams.services import membership_add, unit_create, user_create  # noqa: E402

CODE = "980001"
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # a Monday, 18:00 in Shanghai

CASES_SQL = """
INSERT INTO cases_case (
    tenant_id, city_id, township_id, cell_id, plot_id, node_id, kind, sub_kind, source, source_ref,
    severity, title, description, address, parties, party_names, status, tier, reporter_id, responsible_unit_id,
    responsible_person_id, deadline_seq, alert_level, reminded, extension_minutes, extension_reason,
    pause_reason, paused_seconds, dispute_reason, dispute_seconds, resolution, satisfaction, callback_note,
    created_at, updated_at, version, step_started_at, due_at, yellow_at, red_at, yellow_card_at, red_card_at,
    day_before_at, on_day_at
)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, p.plot_id, 'dispute', 'other', 'visit', '',
       'general', 'case ' || g, '', '', '[]'::jsonb, '', 'in_hand', 'cell', %(reporter)s, u.unit_id, u.person_id,
       1, CASE WHEN late THEN 1 ELSE 0 END, CASE WHEN late THEN 2 ELSE 0 END, 0, '', '', 0, '', 0, '', '', '',
       d.due - interval '5 days', d.due - interval '5 days', 1, d.due - interval '5 days', d.due,
       d.due - interval '20 hours', d.due, d.due + interval '8 hours', d.due + interval '24 hours',
       d.due - interval '1 day', d.due - interval '2 hours'
FROM generate_series(1, %(rows)s) AS g
CROSS JOIN LATERAL (SELECT g %% %(every)s = 0 AS late) l
CROSS JOIN LATERAL (
    SELECT CASE WHEN late THEN %(now)s - (g %% 3600 + 1) * interval '1 second'
                ELSE %(now)s + interval '2 days' + (g %% 1209600) * interval '1 second' END AS due) d
JOIN bench_plots p ON p.n = g %% %(plots)s
JOIN bench_units u ON u.n = g %% %(units)s
"""
# The scan's next look at each case: the deadline of the overdue ones, the day before for the rest.
WATCH_SQL = """
INSERT INTO cases_deadlinewatch (case_id, tenant_id, next_check_at)
SELECT id, tenant_id, CASE WHEN due_at <= %(now)s THEN due_at ELSE due_at - interval '1 day' END
FROM cases_case WHERE tenant_id = %(tenant)s
"""
TABLES = {
    "cases past the deadline": lambda t: Case.objects.filter(tenant_id=t, alert_level__gte=2).count(),
    "overdue marks": lambda t: DeadlineAlert.objects.filter(tenant_id=t).count(),
    "timeline entries": lambda t: CaseEvent.objects.filter(tenant_id=t).count(),
    "supervision orders": lambda t: SupervisionOrder.objects.filter(tenant_id=t).count(),
    "inbox items": lambda t: InboxItem.objects.filter(tenant_id=t).count(),
    "outbox rows": lambda t: Delivery.objects.filter(tenant_id=t).count(),
}


def build_city() -> Tenant:
    tenant = Tenant.objects.filter(code=CODE).first()
    if tenant is not None:
        return tenant
    tenant = tree.tenant_create(name="Supervision bench city", code=CODE)
    root = tree.tenant_root(tenant)
    specs = [
        tree.NodeSpec(
            Kind.TOWN,
            f"{CODE}{t:03d}",
            f"town {t}",
            children=[
                tree.NodeSpec(
                    Kind.VILLAGE,
                    f"{CODE}{t:03d}{c:03d}",
                    f"village {t}-{c}",
                    children=[
                        tree.NodeSpec(Kind.PLOT, f"{CODE}{t:03d}{c:03d}{p:02d}", f"plot {t}-{c}-{p}")
                        for p in range(2)
                    ],
                )
                for c in range(10)
            ],
        )
        for t in range(10)
    ]
    tree.subtree_bulk_create(parent=root, specs=specs)
    offices = [(UnitKind.TOWNSHIP_OFFICE, root, "city office")] + [
        (UnitKind.TOWNSHIP_OFFICE, node, f"office {node.code}")
        for node in GridNode.objects.filter(tenant=tenant, level=Level.TOWNSHIP).order_by("code")
    ]
    units = [(UnitKind.DEPARTMENT, None, f"department {d}") for d in range(20)] + offices
    for i, (kind, node, name) in enumerate(units):
        unit = unit_create(actor=None, tenant_id=tenant.pk, kind=kind, code=f"u{i}", name=name, node=node)
        for m in range(2):
            user = user_create(
                actor=None, username=f"sv_{i}_{m}", home_node=node or root, role=Role.TOWNSHIP_STAFF
            )
            membership_add(actor=None, unit=unit, user=user)
    return tenant


def load(tenant: Tenant) -> None:
    started = time.perf_counter()
    city = tree.tenant_root(tenant)
    reporter = Unit.objects.get(tenant=tenant, code="u0").memberships.first().user_id  # type: ignore[union-attr]
    with transaction.atomic(), connection.cursor() as cursor:
        clear(cursor, tenant.pk)
        cursor.execute("DELETE FROM cases_deadlinewatch WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM cases_case WHERE tenant_id = %s", [tenant.pk])
        cursor.execute(
            """CREATE TEMP TABLE bench_plots ON COMMIT DROP AS
               SELECT (row_number() OVER (ORDER BY p.id)) - 1 AS n, p.id AS plot_id, c.id AS cell_id,
                      c.parent_id AS township_id
               FROM grids_gridnode p JOIN grids_gridnode c ON c.id = p.parent_id
               WHERE p.tenant_id = %s AND p.level = 3""",
            [tenant.pk],
        )
        # The departments; the responsible person is the unit's first member.
        cursor.execute(
            """CREATE TEMP TABLE bench_units ON COMMIT DROP AS
               SELECT (row_number() OVER (ORDER BY u.id)) - 1 AS n, u.id AS unit_id,
                      (SELECT min(m.user_id) FROM teams_membership m WHERE m.unit_id = u.id) AS person_id
               FROM teams_unit u WHERE u.tenant_id = %s AND u.kind = 'department'""",
            [tenant.pk],
        )
        cursor.execute(
            CASES_SQL,
            {
                "tenant": tenant.pk,
                "city": city.pk,
                "reporter": reporter,
                "rows": OPTIONS.cases,
                "every": OPTIONS.overdue_every,
                "now": NOW,
                "plots": 200,
                "units": 20,
            },
        )
        cursor.execute(WATCH_SQL, {"tenant": tenant.pk, "now": NOW})
    print(f"  loaded {OPTIONS.cases:,} cases in {time.perf_counter() - started:.0f} s", flush=True)


def clear(cursor: Any, tenant_id: int) -> None:
    """Everything a scan writes, gone; the overdue cases back to 'deadline near, not yet scanned'.

    The timeline is append-only (a trigger refuses DELETE): this bench database's own rows are
    cleared with triggers off for this transaction only (session_replication_role)."""
    cursor.execute("SET LOCAL session_replication_role = replica")
    for table in ("teams_delivery", "teams_inboxitem", "cases_caseevent", "cases_deadlinealert"):
        cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608
    cursor.execute(
        "DELETE FROM cases_supervisionorder WHERE tenant_id = %s AND parent_id IS NOT NULL", [tenant_id]
    )
    cursor.execute("DELETE FROM cases_supervisionorder WHERE tenant_id = %s", [tenant_id])
    cursor.execute(
        "UPDATE cases_case SET alert_level = 1, reminded = 2 WHERE tenant_id = %s AND due_at <= %s "
        "AND (alert_level <> 1 OR reminded <> 2)",
        [tenant_id, NOW],
    )
    cursor.execute(
        "UPDATE cases_deadlinewatch w SET next_check_at = c.due_at FROM cases_case c "
        "WHERE c.id = w.case_id AND c.tenant_id = %s AND c.due_at <= %s "
        "AND w.next_check_at IS DISTINCT FROM c.due_at",
        [tenant_id, NOW],
    )


def reset(tenant_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        clear(cursor, tenant_id)
    with connection.cursor() as cursor:
        for table in (
            "cases_case",
            "cases_deadlinewatch",
            "cases_supervisionorder",
            "teams_inboxitem",
            "cases_caseevent",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


def counts(tenant_id: int) -> dict[str, int]:
    return {name: count(tenant_id) for name, count in TABLES.items()}


def server_cpu() -> float:
    """CPU seconds the database server process of this connection has used (0 when it runs elsewhere)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(tenant_id: int) -> tuple[float, supervision.ScanResult, float]:
    """One scan: its wall time, its result and the CPU seconds it used (this process and the
    server's, over every connection the scan worked on): on a shared machine the CPU time is what
    the scan would take with the cores to itself."""
    kw: dict[str, Any] = {"batch": OPTIONS.batch} if OPTIONS.batch else {}
    if OPTIONS.workers:
        kw["workers"] = OPTIONS.workers
    drain, on_workers = supervision._drain, []

    def counted(*args: Any) -> supervision.ScanResult:
        if threading.current_thread() is threading.main_thread():
            return drain(*args)  # on the caller's connection, counted below
        before = server_cpu()  # this worker thread's own connection
        try:
            return drain(*args)
        finally:
            on_workers.append(server_cpu() - before)

    supervision._drain = counted
    try:
        client, server = time.process_time(), server_cpu()
        started = time.perf_counter()
        result = supervision.deadlines_scan(tenant_id=tenant_id, now=NOW, **kw)
        wall = time.perf_counter() - started
        client = time.process_time() - client
        server = server_cpu() - server + sum(on_workers)
    finally:
        supervision._drain = drain
    print(
        f"  CPU: {client:.2f} s here, {server:.2f} s in the database server "
        f"(cases on {max(len(on_workers), 1)} connection(s))",
        flush=True,
    )
    return wall, result, client + server


NOTES = "<!-- notes: kept when the figures above are rewritten -->"

WATCHED = [
    (
        "one batch of cases: claim (FOR UPDATE SKIP LOCKED), conditional UPDATE, overdue marks, orders, "
        "timeline entries and inbox items in one statement",
        re.compile(r"^\s*WITH claimed AS", re.S),
    ),
    ("claim of assisting parts", re.compile(r"FROM \"cases_casepart\".*SKIP LOCKED", re.S)),
    ("claim of late orders (climb)", re.compile(r"FROM \"cases_supervisionorder\".*SKIP LOCKED", re.S)),
    (
        "the inbox count in the header",
        re.compile(r"SELECT COUNT\(\*\) AS \"__count\" FROM \"teams_inboxitem\""),
    ),
]


def _short(line: str, width: int = 240) -> str:
    """A plan line with its long id list cut (the batch's ids add nothing to read)."""
    return line if len(line) <= width else line[:width] + " ...'"


FLOOR_SQL = [
    "UPDATE cases_case SET alert_level = 2 WHERE tenant_id = %(t)s AND due_at <= %(now)s",
    "UPDATE cases_deadlinewatch w SET next_check_at = c.yellow_card_at FROM cases_case c "
    "WHERE c.id = w.case_id AND c.tenant_id = %(t)s AND c.due_at <= %(now)s AND w.next_check_at <= %(now)s",
    "INSERT INTO cases_deadlinealert (tenant_id, case_id, deadline_seq, level, created_at) "
    "SELECT tenant_id, id, deadline_seq, 2, %(now)s FROM cases_case WHERE tenant_id = %(t)s AND due_at <= %(now)s",
    "INSERT INTO cases_caseevent (tenant_id, case_id, at, actor_id, action, from_status, to_status, note, due_at, data) "
    "SELECT tenant_id, id, %(now)s, NULL, a, status, status, '', due_at, '{}'::jsonb FROM cases_case "
    "CROSS JOIN (VALUES ('deadline_red'), ('supervision_order')) v(a) WHERE tenant_id = %(t)s AND due_at <= %(now)s",
    f"INSERT INTO cases_supervisionorder ({supervision._ORDER_COLUMNS}) "  # noqa: S608
    "SELECT tenant_id, city_id, township_id, cell_id, plot_id, id, NULL, deadline_seq, 'township', 1, responsible_unit_id, "
    "responsible_person_id, 'open', 'floor:' || id, FALSE, '', NULL, NULL, %(now)s, %(now)s, '', NULL, NULL, '', NULL, NULL "
    "FROM cases_case WHERE tenant_id = %(t)s AND due_at <= %(now)s",
    "INSERT INTO teams_inboxitem (tenant_id, user_id, kind, subject, url, about_type, about_id, key, created_at, read_at) "
    "SELECT c.tenant_id, u.id, 'supervision_order', 'subject ' || c.id, '/cases/supervision/' || c.id || '/', "
    "'cases.supervisionorder', c.id, 'floor:' || c.id, %(now)s, NULL FROM cases_case c "
    "CROSS JOIN LATERAL (SELECT id FROM teams_user WHERE tenant_id = c.tenant_id ORDER BY id OFFSET c.id %% 20 LIMIT 4) u "
    "WHERE c.tenant_id = %(t)s AND c.due_at <= %(now)s",
]


def floor_seconds(tenant_id: int) -> tuple[float, list[int]]:
    """The baseline: the same rows written by six plain set-based statements over all 50,000 cases
    at once (no claim, no batches, no Python between), in a transaction rolled back afterwards."""
    started = time.perf_counter()
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in FLOOR_SQL:
            cursor.execute(sql, {"t": tenant_id, "now": NOW})
            rows.append(cursor.rowcount)
        transaction.set_rollback(True)
    return time.perf_counter() - started, rows


def explain_scan(tenant_id: int) -> dict[str, tuple[str, str]]:
    """Run a scan whose first statement of each kind is first run under EXPLAIN (ANALYZE, BUFFERS)
    inside a savepoint that is rolled back, so the plans are of the real statements on the real data."""
    plans: dict[str, tuple[str, str]] = {}
    prefix = ""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        for label, pattern in WATCHED:
            name = prefix + label
            if name not in plans and pattern.search(sql):
                cursor = context["cursor"].cursor  # the driver's own: no wrapper again
                cursor.execute("SAVEPOINT bench_explain")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(_short(row[0]) for row in cursor.fetchall())
                cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
                plans[name] = (re.sub(r"\s+", " ", sql).strip()[:600], plan)
                break
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        # On this connection only (the wrapper sees this thread's statements): one batch's plan is
        # the same whichever connection runs it.
        supervision.deadlines_scan(
            tenant_id=tenant_id, now=NOW, workers=1, **({"batch": OPTIONS.batch} if OPTIONS.batch else {})
        )
        # The header's unread count of the person with the most items after the scan.
        busiest = (
            InboxItem.objects.filter(tenant_id=tenant_id, read_at__isnull=True)
            .values("user_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if busiest:
            user = User.objects.get(pk=busiest["user_id"])
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE teams_inboxitem")  # as autovacuum leaves it after a scan
            with transaction.atomic():
                selectors.inbox_unread_count(user)
        # The second scan right after: its one statement finds nothing to claim.
        prefix = "second scan, writing nothing: "
        supervision.deadlines_scan(tenant_id=tenant_id, now=NOW, workers=1)
    return plans


def write_json(
    path: Path, first_s: float, first_cpu: float, floor_s: float, second_s: float, due: int, total: int
) -> None:
    """The rows of `make bench`'s table (bench/run.py reads them)."""
    name = f"deadline scan, {total:,} open cases, {due:,} just due"
    load = f"{os.getloadavg()[0]:.1f}"
    figures = [
        {"figure": f"{name}: first scan", "ours_ms": round(first_s * 1000), "cpu_ms": round(first_cpu * 1000),
         "baseline": "raw SQL: the same rows by six plain statements", "baseline_ms": round(floor_s * 1000),
         "ratio": round(first_s / floor_s, 1), "goal": "<5 s", "queries": None, "load_average": load},
        {"figure": f"{name}: second scan (writes nothing)", "ours_ms": round(second_s * 1000, 1),
         "baseline": "raw SQL: the same rows by six plain statements", "baseline_ms": round(floor_s * 1000),
         "ratio": round(second_s / floor_s, 3), "goal": "nothing written", "queries": None, "load_average": load},
    ]  # fmt: skip
    path.write_text(json.dumps({"figures": figures}, indent=2) + "\n")


def main() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    tenant = build_city()
    t = tenant.pk
    if OPTIONS.reload or Case.objects.filter(tenant=tenant).count() != OPTIONS.cases:
        load(tenant)
    reset(t)
    db.analyze(Case, DeadlineWatch, SupervisionOrder, InboxItem, CaseEvent, DeadlineAlert)
    print(f"dataset ready in {time.perf_counter() - started:.0f} s ({NAME})", flush=True)
    due = DeadlineWatch.objects.filter(tenant=tenant, next_check_at__lte=NOW).count()
    total = Case.objects.filter(tenant=tenant).count()

    before = counts(t)
    load_before = os.getloadavg()[0]
    first_s, first, first_cpu = scan(t)
    load_first = os.getloadavg()[0]
    after_first = counts(t)
    second_s, second, second_cpu = scan(t)
    after_second = counts(t)
    print(
        f"first scan {first_s:.2f} s (CPU {first_cpu:.2f} s, load {load_before:.1f} -> {load_first:.1f}); "
        f"second {second_s:.2f} s (CPU {second_cpu:.2f} s)",
        flush=True,
    )
    if OPTIONS.scan_only:
        assert after_first == after_second, "the second scan wrote rows"
        print(after_first)
        return
    reset(t)
    floor_s, floor_rows = floor_seconds(t)
    if OPTIONS.json:
        write_json(OPTIONS.json, first_s, first_cpu, floor_s, second_s, due, total)
        return
    reset(t)
    plans = explain_scan(t)

    batch = OPTIONS.batch or supervision.BATCH
    lines = [
        f"open cases: {total:,}; due at the scan's moment: {due:,} ({due / total:.0%}); batch {batch:,}",
        f"first scan:  {first_s:6.2f} s (goal < 5 s) at load {load_before:.1f} -> {load_first:.1f}, "
        f"CPU {first_cpu:.2f} s (client + server): {first.advanced:,} cases advanced, {first.orders:,} orders, "
        f"{first.delivered:,} inbox items",
        f"baseline:    {floor_s:6.2f} s: the same rows by six plain INSERT/UPDATE ... SELECT over all due cases "
        f"at once, rolled back ({', '.join(f'{n:,}' for n in floor_rows)} rows); scan/baseline {first_s / floor_s:.1f}x",
        f"second scan: {second_s:6.2f} s, CPU {second_cpu:.2f} s: {second.advanced} advanced, {second.orders} orders, "
        f"{second.delivered} inbox items",
        "",
        f"{'rows':<26} {'before':>10} {'after 1st':>10} {'after 2nd':>10}",
        *[
            f"{name:<26} {before[name]:>10,} {after_first[name]:>10,} {after_second[name]:>10,}"
            for name in TABLES
        ],
    ]
    print("\n" + "\n".join(lines))
    assert after_first == after_second, "the second scan wrote rows"
    if OPTIONS.no_write:
        return
    doc = [
        "# Deadline scan over a million open cases (bench/supervision_scan.py)",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on PostgreSQL "
        f"{connection.cursor().connection.info.server_version} (2-core machine shared with other work), "
        f"`make bench-supervision`, load average {os.getloadavg()[0]:.1f} at the end:",
        "",
        *["    " + line for line in lines],
        "",
        "Plans of the first batch of each statement (EXPLAIN (ANALYZE, BUFFERS) inside a savepoint "
        "rolled back before the statement ran for real):",
    ]
    for name, (sql, plan) in plans.items():
        doc += ["", f"## {name}", "", "    " + sql, "", *["    " + line for line in plan.splitlines()]]
    out = ROOT / "bench" / "supervision_scan_results.md"
    # The hand-written reading below the marker stays; the figures and plans above it are replaced.
    notes = out.read_text().split(NOTES, 1)[1] if out.exists() and NOTES in out.read_text() else "\n"
    out.write_text(NOTES.join(["\n".join(doc) + "\n\n", notes]))
    print("\nwritten to bench/supervision_scan_results.md")


if __name__ == "__main__":
    main()
