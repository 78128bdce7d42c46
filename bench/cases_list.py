"""Benchmark: the case list's first page over 1,000,000 cases in PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ruian_bench .venv/bin/python bench/cases_list.py

Builds (once; rerunning reuses it, `--reload` rebuilds) a city of 38 townships, 1,140 cells and
3,420 plots, loads the cases with one INSERT ... SELECT over generate_series per chunk, ANALYZEs,
then for a city user, a township user and a department user calls the API list view
(GET /api/v1/cases/) and its second page, printing the query count, the median time of several
runs, and EXPLAIN (ANALYZE, BUFFERS) of the page query.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ruian_bench"
)
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from cases.api import CaseViewSet  # noqa: E402
from cases.models import Case  # noqa: E402
from grids import tree  # noqa: E402
from grids.models import GridNode, Kind, Level, Tenant  # noqa: E402
from teams.models import Unit, User  # noqa: E402
from teams.roles import Role  # noqa: E402
from teams.services import membership_add, unit_create, user_create  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", "1000000"))
CHUNK = 250_000
CODE = "990381"  # a bench-only city code


def ensure_units(tenant: Tenant) -> None:
    for code in ("justice", "fire", "safety", "petitions"):
        if not Unit.objects.filter(tenant=tenant, code=f"dept-{code}").exists():
            unit_create(actor=None, tenant_id=tenant.pk, kind="department", code=f"dept-{code}", name=code)


def ensure_city() -> Tenant:
    tenant = Tenant.objects.filter(code=CODE).first()
    if tenant:
        ensure_units(tenant)
        return tenant
    tenant = tree.tenant_create(name="Bench city", code=CODE)
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
    user_create(actor=None, username="bench_city", home_node=root, role=Role.CITY_ADMIN)
    user_create(actor=None, username="bench_township", home_node=township, role=Role.TOWNSHIP_STAFF)
    police = unit_create(
        actor=None, tenant_id=tenant.pk, kind="department", code="dept-police", name="police"
    )
    dept = User.objects.create_user(username="bench_police", tenant=tenant)
    membership_add(actor=None, unit=police, user=dept)
    ensure_units(tenant)
    return tenant


LOAD_SQL = """
INSERT INTO cases_case (
    tenant_id, city_id, township_id, cell_id, plot_id, node_id, kind, sub_kind, source, source_ref,
    severity, title, description, address, parties, status, tier, reporter_id, responsible_unit_id,
    deadline_seq, alert_level, extension_minutes, extension_reason, pause_reason, paused_seconds,
    dispute_reason, dispute_seconds, resolution, satisfaction, callback_note, created_at, updated_at,
    version, due_at, yellow_at, red_at, step_started_at
)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, p.plot_id,
       (ARRAY['dispute','hazard','petition','incident','request'])[1 + g %% 5], 'other', 'visit', '',
       (ARRAY['general','general','general','major','critical'])[1 + g %% 5],
       'case ' || g, '', '', '[]'::jsonb,
       (ARRAY['registered','dispatched','in_hand','resolved','closed','closed','closed'])[1 + g %% 7],
       'cell', %(reporter)s, CASE WHEN g %% 7 IN (1, 2, 3) THEN (%(units)s::bigint[])[1 + g %% 5] END,
       1, 0, 0, '', '', 0, '', 0, '', '', '',
       ts, ts, 1, ts + interval '5 days', ts + interval '4 days', ts + interval '5 days', ts
FROM generate_series(%(start)s, %(stop)s) AS g
JOIN bench_plots p ON p.n = g %% %(plots)s
CROSS JOIN LATERAL (SELECT now() - (g || ' seconds')::interval * 30 AS ts) t
"""


def load(tenant: Tenant, reload: bool) -> None:
    have = Case.objects.filter(tenant=tenant).count()
    if have >= CASES and not reload:
        print(f"{have:,} cases already loaded")
        return
    reporter = User.objects.get(username="bench_city")
    units = list(
        Unit.objects.filter(tenant=tenant, kind="department").order_by("pk").values_list("pk", flat=True)
    )
    city = tree.tenant_root(tenant)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_case WHERE tenant_id = %s", [tenant.pk])
        cursor.execute(
            """CREATE TEMP TABLE bench_plots ON COMMIT DROP AS
               SELECT (row_number() OVER (ORDER BY p.id)) - 1 AS n, p.id AS plot_id,
                      c.id AS cell_id, c.parent_id AS township_id
               FROM grids_gridnode p JOIN grids_gridnode c ON c.id = p.parent_id
               WHERE p.tenant_id = %s AND p.level = 3""",
            [tenant.pk],
        )
        cursor.execute("SELECT count(*) FROM bench_plots")
        plots = cursor.fetchone()[0]
        for start in range(1, CASES + 1, CHUNK):
            stop = min(start + CHUNK - 1, CASES)
            params = {
                "tenant": tenant.pk,
                "city": city.pk,
                "reporter": reporter.pk,
                "units": units,
                "start": start,
                "stop": stop,
                "plots": plots,
            }
            cursor.execute(LOAD_SQL, params)
            print(f"  loaded {stop:,} cases ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    print(f"loaded {CASES:,} cases in {time.perf_counter() - started:.1f} s")


def measure(username: str, runs: int = 7) -> None:
    user = User.objects.get(username=username)
    view = CaseViewSet.as_view({"get": "list"})
    factory = APIRequestFactory(SERVER_NAME="localhost")

    def call(url: str):  # noqa: ANN202
        fresh = User.objects.get(pk=user.pk)  # no cached grants between runs
        request = factory.get(url)
        force_authenticate(request, user=fresh)
        return view(request)

    timings, count = [], 0
    response = None
    for _i in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = call("/api/v1/cases/")
            response.render()
            timings.append((time.perf_counter() - t0) * 1000)
        count = len(ctx.captured_queries)
        page_sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"])
    rows = len(response.data["results"])
    next_url = response.data["next"]
    second = []
    for _i in range(runs):
        t0 = time.perf_counter()
        r2 = call(next_url)
        r2.render()
        second.append((time.perf_counter() - t0) * 1000)
    print(
        f"\n== {username}: first page {rows} rows, {count} queries (incl. the user lookup), "
        f"median {statistics.median(timings):.1f} ms (min {min(timings):.1f}); "
        f"second page median {statistics.median(second):.1f} ms"
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql)
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    call_command("migrate", verbosity=0)
    tenant = ensure_city()
    load(tenant, reload="--reload" in sys.argv)
    for username in ("bench_city", "bench_township", "bench_police"):
        measure(username)


if __name__ == "__main__":
    main()
