"""The city dashboard over 1,000,000 cases beside the same aggregates in hand-written SQL.

`python bench/dashboard.py [--reload] [--runs N] [--json PATH]` builds its dataset once (`--reload`
rebuilds) in its own PostgreSQL database, `ruian_bench_dashboard` on the server BENCH_DATABASE_URL
names (default postgres://postgres@127.0.0.1:5432/), written by the database itself (INSERT ... SELECT
over generate_series, then ANALYZE):

- one Ruian-size city (38 townships x 30 cells x 3 plots), two thirds of the plots with a responsible
  member;
- 1,000,000 cases over the 24 months to today (five kinds in turn); those older than 30 days closed
  (a few still open), with the residents' answer; one in 20 went red (a deadline alert a week in);
- one supervision card (yellow or red) per 100 cases; 100,000 households; 150,000 visits over the
  last 90 days.

Then, through the whole stack (`/api/v1/reports/dashboard/`: middleware, session, grants,
serialisation), the city user's dashboard of this month (past months from the monthly summary, this
month live), of last month (all from the summary) and of this month without the summary (all live,
the state before it), each beside the seven figure families written by hand in SQL over the raw
tables for the same month (the baseline): medians of several requests, queries per request, and the
load average before and after. `--json` writes them for `bench/run.py`'s table. Never part of
`make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES, HOUSEHOLDS, VISITS = 1_000_000, 100_000, 150_000


def database_url() -> str:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    parts = urlsplit(base)
    name = os.environ.get("BENCH_DASHBOARD_DATABASE_NAME", "ruian_bench_dashboard")
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
args.add_argument("--reload", action="store_true", help="rebuild the dataset")
args.add_argument("--runs", type=int, default=9)
args.add_argument("--json", type=Path, help="write the figures here as JSON")
OPTIONS = args.parse_args()
URL = database_url()
ensure_database(URL)
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from grids import tree  # noqa: E402
from grids.models import GridNode, Kind, Level, Tenant  # noqa: E402
from reports import selectors  # noqa: E402
from reports.models import MonthlyFigure  # noqa: E402
from ruian_grid import db  # noqa: E402
from teams.models import User  # noqa: E402
from teams.roles import Role  # noqa: E402
from teams.services import user_create  # noqa: E402

CODE = "980000"  # a bench-only division code


def build_city() -> Tenant:
    tenant = Tenant.objects.filter(code=CODE).first()
    if tenant is not None:
        return tenant
    tenant = tree.tenant_create(name="Dashboard bench city", code=CODE)
    root = tree.tenant_root(tenant)
    specs = []
    for t in range(38):
        tcode = f"{CODE}{t:03d}"
        cells = []
        for c in range(30):
            ccode = f"{tcode}{c:03d}"
            plots = [tree.NodeSpec(Kind.PLOT, f"{ccode}{p:02d}", f"plot {t}-{c}-{p}") for p in range(3)]
            cells.append(tree.NodeSpec(Kind.VILLAGE, ccode, f"village {t}-{c}", children=plots))
        specs.append(tree.NodeSpec(Kind.TOWN, tcode, f"town {t}", children=cells))
    tree.subtree_bulk_create(parent=root, specs=specs)
    township = GridNode.objects.filter(tenant=tenant, level=Level.TOWNSHIP).order_by("code").first()
    user_create(actor=None, username="dash_city", home_node=root, role=Role.CITY_ADMIN, password="x")
    user_create(
        actor=None, username="dash_township", home_node=township, role=Role.TOWNSHIP_STAFF, password="x"
    )
    return tenant


PLOTS_SQL = """
CREATE TEMP TABLE bench_plots ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY p.id)) - 1 AS n, p.id AS plot_id, c.id AS cell_id,
       c.parent_id AS township_id
FROM grids_gridnode p JOIN grids_gridnode c ON c.id = p.parent_id
WHERE p.tenant_id = %(tenant)s AND p.level = 3
"""

# Case g is recorded (g x 24 months / CASES) before `now`: newest first, evenly over two years. Those
# older than 30 days are closed 1 to 14 days after (but for one in 200, still open).
CASES_SQL = """
INSERT INTO cases_case (
    tenant_id, city_id, township_id, cell_id, plot_id, node_id, kind, sub_kind, source, source_ref,
    severity, title, description, address, parties, party_names, status, tier, reporter_id,
    deadline_seq, alert_level, extension_minutes, extension_reason, pause_reason, paused_seconds,
    dispute_reason, dispute_seconds, resolution, satisfaction, callback_note, created_at, updated_at,
    closed_at, version, step_started_at
)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, p.plot_id,
       (ARRAY['dispute','hazard','petition','incident','request'])[1 + g %% 5], 'other', 'visit', '',
       'general', 'case ' || g, '', '', '[]'::jsonb, '', CASE WHEN closed THEN 'closed' ELSE 'registered' END,
       'cell', %(reporter)s, 1, 0, 0, '', '', 0, '', 0, '',
       CASE WHEN closed THEN (ARRAY['satisfied','basically','unsatisfied','unreachable','satisfied'])[1 + g %% 7 %% 5]
            ELSE '' END,
       '', ts, ts, CASE WHEN closed THEN ts + ((1 + g %% 14) || ' days')::interval END, 1, ts
FROM generate_series(1, %(rows)s) AS g
JOIN bench_plots p ON p.n = g %% %(plots)s
CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - (g * 63) * interval '1 second' AS ts) t
CROSS JOIN LATERAL (SELECT ts < %(now)s::timestamptz - interval '30 days' AND g %% 200 <> 0 AS closed) c
"""

ALERTS_SQL = """
INSERT INTO cases_deadlinealert (tenant_id, case_id, deadline_seq, level, created_at)
SELECT tenant_id, id, 1, 2, created_at + interval '7 days' FROM cases_case
WHERE tenant_id = %(tenant)s AND id %% 20 = 0 AND created_at + interval '7 days' < %(now)s::timestamptz
"""

ORDERS_SQL = """
INSERT INTO cases_supervisionorder (
    tenant_id, city_id, township_id, cell_id, plot_id, case_id, deadline_seq, tier, grade, status, key,
    manual, reason, created_at, reply_due_at, reply, review_note)
SELECT tenant_id, city_id, township_id, cell_id, plot_id, id, 1, 'township', 2 + (id / 100) %% 2, 'closed',
       'bench-' || id, false, '', created_at + interval '8 days', created_at + interval '10 days', '', ''
FROM cases_case
WHERE tenant_id = %(tenant)s AND id %% 100 = 0 AND created_at + interval '8 days' < %(now)s::timestamptz
"""

HOUSEHOLDS_SQL = """
INSERT INTO grids_household (tenant_id, city_id, township_id, cell_id, plot_id, number, address, tags,
                             status, deregistered_reason, created_at, updated_at)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, 'H' || lpad(g::text, 8, '0'),
       'address ' || g, 0, 'active', '', timestamptz '2024-01-01', timestamptz '2024-01-01'
FROM generate_series(1, %(rows)s) AS g JOIN bench_plots p ON p.n = g %% %(plots)s
"""

HOUSEHOLDS_NUMBERED_SQL = """
CREATE TEMP TABLE bench_households ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id, tenant_id, city_id, township_id, cell_id, plot_id
FROM grids_household WHERE tenant_id = %(tenant)s
"""

VISITS_SQL = """
INSERT INTO teams_visit (tenant_id, city_id, township_id, cell_id, plot_id, household_id, visitor_id,
                         client_id, visited_on, seen, heard, record_note, outcome, resolution, created_at)
SELECT h.tenant_id, h.city_id, h.township_id, h.cell_id, h.plot_id, h.id, %(visitor)s,
       md5('dash-visit-' || g)::uuid, (%(now)s::timestamptz - (g %% 90) * interval '1 day')::date,
       '', '', '', 'nothing', '', %(now)s::timestamptz
FROM generate_series(1, %(rows)s) AS g JOIN bench_households h ON h.n = (g * 7919) %% %(households)s
"""

ASSIGNMENTS_SQL = """
INSERT INTO teams_plotassignment (tenant_id, city_id, township_id, cell_id, plot_id, member_id, duties,
                                  started_at)
SELECT %(tenant)s, %(city)s, township_id, cell_id, plot_id, %(member)s, '', timestamptz '2024-01-01'
FROM bench_plots WHERE n %% 3 <> 0
"""


def load(reload: bool) -> Tenant:
    from cases.models import Case, DeadlineAlert, SupervisionOrder
    from grids.models import Household
    from teams.models import PlotAssignment, Visit

    call_command("migrate", verbosity=0)
    tenant = build_city()
    if Case.objects.filter(tenant=tenant).count() == CASES and not reload:
        return tenant
    started = time.perf_counter()
    city = tree.tenant_root(tenant)
    reporter = User.objects.get(username="dash_city")
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("cases_supervisionorder", "cases_deadlinealert", "cases_caseevent", "teams_visit",
                      "cases_case", "teams_plotassignment", "grids_household"):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        cursor.execute(PLOTS_SQL, {"tenant": tenant.pk})
        cursor.execute("SELECT count(*) FROM bench_plots")
        plots = cursor.fetchone()[0]
        common = {"tenant": tenant.pk, "city": city.pk, "plots": plots, "now": now}
        cursor.execute(CASES_SQL, {**common, "rows": CASES, "reporter": reporter.pk})
        cursor.execute(ALERTS_SQL, common)
        cursor.execute(ORDERS_SQL, common)
        cursor.execute(HOUSEHOLDS_SQL, {**common, "rows": HOUSEHOLDS})
        cursor.execute(HOUSEHOLDS_NUMBERED_SQL, common)
        cursor.execute(
            VISITS_SQL, {**common, "rows": VISITS, "visitor": reporter.pk, "households": HOUSEHOLDS}
        )
        cursor.execute(ASSIGNMENTS_SQL, {**common, "member": reporter.pk})
    db.analyze(Case, DeadlineAlert, SupervisionOrder, Household, Visit, PlotAssignment, GridNode)
    print(f"dataset loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return tenant


# The seven figure families of the dashboard of the city root for the month [start, end), by township,
# in hand-written SQL over the raw tables (the same filters `reports.selectors.dashboard` applies).
RAW_SQL = [
    # 1. the children with their plots and covered plots
    """SELECT t.id, t.name,
              (SELECT count(*) FROM grids_gridnode p WHERE p.tree_id = t.tree_id AND p.lft > t.lft
                  AND p.lft < t.rght AND p.level = 3),
              (SELECT count(*) FROM teams_plotassignment a WHERE a.tenant_id = %(tenant)s
                  AND a.township_id = t.id AND a.ended_at IS NULL)
       FROM grids_gridnode t WHERE t.parent_id = %(root)s ORDER BY t.lft""",
    # 2. outcomes per township and month over 13 months
    """SELECT township_id, date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai') AS m,
              count(*) FILTER (WHERE kind = 'incident'), count(*) FILTER (WHERE kind = 'hazard'),
              count(*) FILTER (WHERE kind = 'petition')
       FROM cases_case WHERE tenant_id = %(tenant)s AND city_id = %(root)s AND status <> 'merged'
            AND created_at >= %(range_start)s AND created_at < %(end)s
       GROUP BY 1, 2""",
    # 3. satisfaction at close-out per township and month over 13 months
    """SELECT township_id, date_trunc('month', closed_at AT TIME ZONE 'Asia/Shanghai') AS m,
              count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically')),
              count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically', 'unsatisfied'))
       FROM cases_case WHERE tenant_id = %(tenant)s AND city_id = %(root)s AND status = 'closed'
            AND closed_at >= %(range_start)s AND closed_at < %(end)s
       GROUP BY 1, 2""",
    # 4. handling in the month
    """SELECT township_id,
              count(*) FILTER (WHERE closed_at IS NULL OR closed_at >= %(end)s),
              count(*) FILTER (WHERE status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s),
              count(*) FILTER (WHERE status = 'closed' AND closed_at >= %(start)s AND closed_at < %(end)s
                  AND NOT EXISTS (SELECT 1 FROM cases_deadlinealert a WHERE a.case_id = c.id AND a.level >= 2)),
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cases_deadlinealert a WHERE a.case_id = c.id
                  AND a.level >= 2 AND a.created_at >= %(start)s AND a.created_at < %(end)s))
       FROM cases_case c WHERE tenant_id = %(tenant)s AND city_id = %(root)s AND status <> 'merged'
            AND created_at < %(end)s AND (closed_at IS NULL OR closed_at >= %(start)s)
       GROUP BY 1""",
    # 5. supervision cards issued in the month
    """SELECT township_id, count(*) FILTER (WHERE grade = 2), count(*) FILTER (WHERE grade = 3)
       FROM cases_supervisionorder WHERE tenant_id = %(tenant)s AND city_id = %(root)s
            AND created_at >= %(start)s AND created_at < %(end)s AND grade IN (2, 3) AND status <> 'withdrawn'
       GROUP BY 1""",
    # 6. active households
    """SELECT township_id, count(*) FROM grids_household
       WHERE tenant_id = %(tenant)s AND city_id = %(root)s AND status = 'active' GROUP BY 1""",
    # 7. households visited in the month
    """SELECT township_id, count(DISTINCT household_id) FROM teams_visit
       WHERE tenant_id = %(tenant)s AND city_id = %(root)s AND visited_on >= %(first)s AND visited_on < %(next)s
       GROUP BY 1""",
]


def raw_sql(tenant: Tenant, root: GridNode, month: dt.date) -> Callable[[], Any]:
    start, end = selectors.month_bounds(month)
    range_start, _ = selectors.month_bounds(selectors.add_months(month, -selectors.TREND_MONTHS))
    params = {"tenant": tenant.pk, "root": root.pk, "start": start, "end": end, "range_start": range_start,
              "first": month, "next": selectors.add_months(month, 1)}  # fmt: skip

    def run() -> Any:
        with connection.cursor() as cursor:
            out = []
            for sql in RAW_SQL:
                cursor.execute(sql, params)
                out.append(cursor.fetchall())
            return out

    return run


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    started = time.perf_counter()
    tenant = load(OPTIONS.reload)
    from reports import summary

    refresh_started = time.perf_counter()
    summary.refresh(tenant_id=tenant.pk)
    refresh_ms = (time.perf_counter() - refresh_started) * 1000
    db.analyze(MonthlyFigure)  # a first fill: fresh statistics (later refreshes keep the row count)
    print(f"dataset ready in {time.perf_counter() - started:.0f} s; summary refreshed in {refresh_ms:.0f} ms")
    root = tree.tenant_root(tenant)
    month = timezone.localdate().replace(day=1)
    last_month = selectors.add_months(month, -1)
    client = Client()
    client.force_login(User.objects.get(username="dash_city"))

    def api(query: str = "") -> Callable[[], Any]:
        def run() -> Any:
            response = client.get(f"/api/v1/reports/dashboard/?node={root.pk}{query}")
            assert response.status_code == 200, response.status_code
            return response.json()

        return run

    def live(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with summary.disabled():
                return fn()

        return run

    this, past = api(), api(f"&month={last_month:%Y-%m}")
    queries = {}
    for name, fn in (("this", this), ("past", past)):
        with CaptureQueriesContext(connection) as ctx:
            body = fn()
        queries[name] = len(ctx.captured_queries)
        assert live(fn)() == body, "the summary and the live computation disagree"
    rows = []
    for figure, fn, base_month, goal, count in (
        ("city dashboard, 1M cases", this, month, "<=1.5x", queries["this"]),
        ("city dashboard, 1M cases, last month", past, last_month, "<=1.5x", queries["past"]),
        ("city dashboard, 1M cases, without the summary", live(this), month, "(before)", None),
    ):
        load_before = load_average()
        ours = median_ms(fn, OPTIONS.runs)
        base = median_ms(raw_sql(tenant, root, base_month), OPTIONS.runs)
        rows.append(
            {"figure": figure, "ours_ms": round(ours, 2), "baseline": "raw SQL aggregates",
             "baseline_ms": round(base, 2), "ratio": round(ours / base, 2), "goal": goal, "queries": count,
             "load_average": f"{load_before} -> {load_average()}"}
        )  # fmt: skip
        print(
            f"  {figure}: {ours:.1f} ms vs {base:.1f} ms ({ours / base:.2f}x), load {rows[-1]['load_average']}"
        )
    print(f"  queries per request: {queries}; summary refresh {refresh_ms:.0f} ms")
    document = {
        "dataset": {"cases": CASES, "households": HOUSEHOLDS, "visits": VISITS, "townships": 38},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "postgres": connection.cursor().connection.info.server_version,
        "runs": OPTIONS.runs,
        "refresh_ms": round(refresh_ms),
        "figures": rows,
    }
    if OPTIONS.json:
        OPTIONS.json.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        print(f"written to {OPTIONS.json}")


if __name__ == "__main__":
    main()
