"""`make bench [SCALE=small|province]`: every list beside its raw SQL, in one table.

Builds its dataset (once; `--reload` rebuilds) in its own PostgreSQL database, `ruian_bench_<scale>`
on the server BENCH_DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/), deterministic
and written by the database itself (INSERT ... SELECT over generate_series, then ANALYZE):

- small: one Ruian-size city (38 townships x 30 cells x 3 plots), 100,000 cases, 100,000 households,
  100,000 residents;
- province: 10 such cities, 1,000,000 cases, 1,000,000 households, 1,000,000 residents.

Then, for each figure, the median of several requests through the whole stack (middleware, session,
grants, serialisation or template) beside the same page's SQL run alone, prints one table (figure,
ours, baseline, ratio, goal) and writes it to bench/results/<scale>.json. Never part of `make test`.

The dashboards come from bench/dashboard.py, run alongside on its own dataset (one city of 1,000,000
cases, whatever the scale): the city dashboard beside the same aggregates in hand-written SQL
(`--no-dashboard` leaves it out). The deadline scan comes from bench/supervision_scan.py, likewise
(1,000,000 open cases, 50,000 just due; `--no-supervision` leaves it out).
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

SCALES = {
    "small": {"cities": 1, "cases": 100_000, "households": 100_000, "residents": 100_000},
    "province": {"cities": 10, "cases": 1_000_000, "households": 1_000_000, "residents": 1_000_000},
}


def database_url(scale: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    parts = urlsplit(base)
    name = os.environ.get("BENCH_DATABASE_NAME") or f"ruian_bench_{scale}"
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
args.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("SCALE", "small") or "small")
args.add_argument("--reload", action="store_true", help="rebuild the dataset")
args.add_argument("--runs", type=int, default=9)
args.add_argument("--no-dashboard", action="store_true", help="leave out bench/dashboard.py")
args.add_argument("--no-supervision", action="store_true", help="leave out bench/supervision_scan.py")
args.add_argument(
    "--only",
    metavar="TEXT",
    help="only the list figures whose name contains TEXT (no scoping, dashboard or scan)",
)
args.add_argument("--json", metavar="PATH", help="write the table here instead of bench/results/<scale>.json")
OPTIONS = args.parse_args()
URL = database_url(OPTIONS.scale)
ensure_database(URL)
os.environ["DATABASE_URL"] = URL
# The cache as in production: Redis (grants, units and sessions read from it); a Redis that does not
# answer reads as a miss, so the figures then include the database's reads instead.
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
settings.ROOT_URLCONF = "bench_urls"  # the product's routes and the bare views of the floor figures

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grids import tree  # noqa: E402
from grids.models import GridNode, Kind, Level, Tenant  # noqa: E402
from ruian_grid import db  # noqa: E402
from teams.models import User  # noqa: E402
from teams.roles import Role  # noqa: E402
from teams.services import user_create  # noqa: E402

CODE = "99{:04d}"  # bench-only division codes


def build_city(n: int) -> Tenant:
    code = CODE.format(n)
    tenant = Tenant.objects.filter(code=code).first()
    if tenant is not None:
        return tenant
    tenant = tree.tenant_create(name=f"Bench city {n}", code=code)
    root = tree.tenant_root(tenant)
    specs = []
    for t in range(38):
        tcode = f"{code}{t:03d}"
        cells = []
        for c in range(30):
            ccode = f"{tcode}{c:03d}"
            plots = [tree.NodeSpec(Kind.PLOT, f"{ccode}{p:02d}", f"plot {t}-{c}-{p}") for p in range(3)]
            cells.append(tree.NodeSpec(Kind.VILLAGE, ccode, f"village {t}-{c}", children=plots))
        specs.append(tree.NodeSpec(Kind.TOWN, tcode, f"town {t}", children=cells))
    tree.subtree_bulk_create(parent=root, specs=specs)
    township = GridNode.objects.filter(tenant=tenant, level=Level.TOWNSHIP).order_by("code").first()
    user_create(actor=None, username=f"bench_city_{n}", home_node=root, role=Role.CITY_ADMIN, password="x")
    user_create(
        actor=None, username=f"bench_township_{n}", home_node=township, role=Role.TOWNSHIP_STAFF, password="x"
    )
    return tenant


PLOTS_SQL = """
CREATE TEMP TABLE bench_plots ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY p.id)) - 1 AS n, p.id AS plot_id, c.id AS cell_id,
       c.parent_id AS township_id
FROM grids_gridnode p JOIN grids_gridnode c ON c.id = p.parent_id
WHERE p.tenant_id = %(tenant)s AND p.level = 3
"""

CASES_SQL = """
INSERT INTO cases_case (
    tenant_id, city_id, township_id, cell_id, plot_id, node_id, kind, sub_kind, source, source_ref,
    severity, title, description, address, parties, party_names, status, tier, reporter_id,
    deadline_seq, alert_level, extension_minutes, extension_reason, pause_reason, paused_seconds,
    dispute_reason, dispute_seconds, resolution, satisfaction, callback_note, created_at, updated_at,
    version, due_at, yellow_at, red_at, step_started_at
)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, p.plot_id,
       (ARRAY['dispute','hazard','petition','incident','request'])[1 + g %% 5], 'other', 'visit', '',
       'general', 'case ' || g, '', '', '[]'::jsonb, '',
       (ARRAY['registered','closed'])[1 + g %% 2], 'cell', %(reporter)s,
       1, 0, 0, '', '', 0, '', 0, '', '', '',
       ts, ts, 1, NULL, NULL, NULL, ts
FROM generate_series(1, %(rows)s) AS g
JOIN bench_plots p ON p.n = g %% %(plots)s
CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' - (g || ' seconds')::interval * 30 AS ts) t
"""

HOUSEHOLDS_SQL = """
INSERT INTO grids_household (tenant_id, city_id, township_id, cell_id, plot_id, number, address, tags,
                             status, deregistered_reason, created_at, updated_at)
SELECT %(tenant)s, %(city)s, p.township_id, p.cell_id, p.plot_id, 'H' || lpad(g::text, 8, '0'),
       'address ' || g, 0, 'active', '', timestamptz '2026-01-01', timestamptz '2026-01-01'
FROM generate_series(1, %(rows)s) AS g JOIN bench_plots p ON p.n = g %% %(plots)s
"""


def load(scale: dict[str, int], reload: bool) -> list[Tenant]:
    from cases.models import Case, CaseEvent
    from grids.registry.models import Household, HouseholdTally, Resident
    from grids.registry.services import tally_rebuild

    call_command("migrate", verbosity=0)
    tenants = [build_city(n) for n in range(scale["cities"])]
    per_city = {k: scale[k] // scale["cities"] for k in ("cases", "households", "residents")}
    for n, tenant in enumerate(tenants):
        have = Case.objects.filter(tenant=tenant).count()
        if have == per_city["cases"] and not reload:
            continue
        started = time.perf_counter()
        city = tree.tenant_root(tenant)
        reporter = User.objects.get(username=f"bench_city_{n}")
        with transaction.atomic(), connection.cursor() as cursor:
            CaseEvent.objects.filter(tenant=tenant).delete()
            cursor.execute("DELETE FROM cases_case WHERE tenant_id = %s", [tenant.pk])
            cursor.execute("DELETE FROM grids_resident WHERE tenant_id = %s", [tenant.pk])
            cursor.execute("DELETE FROM grids_household WHERE tenant_id = %s", [tenant.pk])
            cursor.execute(PLOTS_SQL, {"tenant": tenant.pk})
            cursor.execute("SELECT count(*) FROM bench_plots")
            plots = cursor.fetchone()[0]
            common = {"tenant": tenant.pk, "city": city.pk, "plots": plots, "reporter": reporter.pk}
            cursor.execute(CASES_SQL, {**common, "rows": per_city["cases"]})
            cursor.execute(HOUSEHOLDS_SQL, {**common, "rows": per_city["households"]})
            # Residents: one per household in turn (the lateral step walks the households' index).
            cursor.execute(
                """INSERT INTO grids_resident (tenant_id, city_id, township_id, cell_id, plot_id, household_id,
                    name, id_type, id_number_enc, id_number_hash, id_number_masked, sex, birth_year, phone_enc,
                    phone_hash, phone_masked, population_type, relation, status, deregistered_reason,
                    created_at, updated_at)
                   SELECT h.tenant_id, h.city_id, h.township_id, h.cell_id, h.plot_id, h.id, 'resident ' || h.id || '-' || k,
                    'resident_id', 'x', md5(h.id || '-' || k), '3303**********0000', 'f', 1950 + (h.id + k) %% 60,
                    '', '', '', 'registered', 'other', 'active', '', h.created_at, h.created_at
                   FROM grids_household h CROSS JOIN generate_series(1, %(each)s) AS k
                   WHERE h.tenant_id = %(tenant)s""",
                {"tenant": tenant.pk, "each": max(1, per_city["residents"] // per_city["households"])},
            )
        tally_rebuild(tenant.pk)  # the households went in round the services
        print(f"  city {n}: loaded in {time.perf_counter() - started:.0f} s", flush=True)
    for tenant in tenants:
        if not HouseholdTally.objects.filter(tenant=tenant).exists():
            tally_rebuild(tenant.pk)  # a dataset loaded before the tallies existed
    db.analyze(Case, Household, Resident, GridNode, HouseholdTally)
    return tenants


GUARDIAN_SQL = """
INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id)
SELECT c.id::text, %(ct)s, %(perm)s, %(user)s FROM cases_case c
WHERE c.tenant_id = %(tenant)s AND (%(township)s::bigint IS NULL OR c.township_id = %(township)s)
"""


def load_guardian_baseline(tenant: Tenant) -> None:
    """django-guardian's per-object approach, for comparison only: one `view_case` row per visible
    case for the township and the city user (what copying grants down to every object would need)."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    from cases.models import Case

    ct = ContentType.objects.get_for_model(Case)
    perm = Permission.objects.get(content_type=ct, codename="view_case")
    township_user = User.objects.get(username="bench_township_0")
    city_user = User.objects.get(username="bench_city_0")
    township_id = township_user.home_node_id
    wanted = {
        township_user: Case.objects.filter(tenant=tenant, township_id=township_id).count(),
        city_user: Case.objects.filter(tenant=tenant).count(),
    }
    for user, count in wanted.items():
        have = UserObjectPermission.objects.filter(user=user, permission=perm).count()
        if have == count:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            UserObjectPermission.objects.filter(user=user, permission=perm).delete()
            cursor.execute(
                GUARDIAN_SQL,
                {"ct": ct.pk, "perm": perm.pk, "user": user.pk, "tenant": tenant.pk,
                 "township": township_id if user == township_user else None},
            )  # fmt: skip
    db.analyze(UserObjectPermission)


def guardian_figures(runs: int) -> list[dict[str, Any]]:
    """Scoping beside django-guardian's per-object permissions: first page, all visible ids, one object."""
    from guardian.core import ObjectPermissionChecker
    from guardian.shortcuts import get_objects_for_user

    from cases import selectors
    from cases.models import Case
    from grids import scoping

    rows = []
    for label, username in (("township user", "bench_township_0"), ("city user", "bench_city_0")):

        def fresh(username: str = username) -> User:
            return User.objects.get(username=username)  # a new request: nothing cached on the object

        def per_object(user: User) -> Any:
            return get_objects_for_user(
                user, "cases.view_case", Case.objects.all(), accept_global_perms=False, with_superuser=False
            )

        some = selectors.cases_visible(fresh()).order_by("id").values_list("id", flat=True)[:1].get()

        def guardian_one(some: int = some) -> Any:
            user = fresh()
            case = Case.objects.get(pk=some)
            assert ObjectPermissionChecker(user).has_perm("view_case", case)
            return case

        cases = [
            ("first page (50 newest)", lambda: list(selectors.case_list(fresh())[:50]),
             lambda: list(per_object(fresh()).order_by("-created_at", "-id")[:50])),
            ("all visible ids", lambda: list(selectors.cases_visible(fresh()).values_list("id", flat=True)),
             lambda: list(per_object(fresh()).values_list("id", flat=True))),
            ("one object", lambda some=some: scoping.get_in_scope_or_404(selectors.cases_visible(fresh()), pk=some),
             guardian_one),
        ]  # fmt: skip
        for what, ours_fn, theirs_fn in cases:
            ours, theirs = median_ms(ours_fn, runs), median_ms(theirs_fn, runs)
            rows.append(
                {"figure": f"scoping: {what}, {label}", "ours_ms": round(ours, 2),
                 "baseline": "django-guardian per-object", "baseline_ms": round(theirs, 2),
                 "ratio": round(ours / theirs, 3), "goal": ">=50x faster at province", "queries": None}
            )  # fmt: skip
            print(f"  scoping {what}, {label}: {ours:.1f} ms vs guardian {theirs:.1f} ms", flush=True)
    return rows


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def page_sql(fn: Callable[[], Any], table: str) -> tuple[str, int]:
    """The SQL of the page query a request ran on `table`, and the request's query count."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    sqls = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    paged = [sql for sql in sqls if "LIMIT" in sql]
    return max(paged or sqls, key=len), len(ctx.captured_queries)


def raw(sql: str) -> Callable[[], Any]:
    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    return run


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def fetch(client: Client, url: str, **headers: Any) -> Callable[[], Any]:
    def run() -> Any:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return run


def deep(client: Client, url: str, pages: int = 20) -> str:
    """The API url `pages` pages in, following `next`."""
    for _ in range(pages):
        url = client.get(url).json()["next"]
    return url


def floor_figures(client: Client, runs: int) -> list[dict[str, Any]]:
    """What any API list or page costs before its own work, beside the case list page's SQL: a bare
    Django view (the middleware), a bare DRF view (sign-in, the user, the rate limit, JSON) and that
    view plus the page's SQL, the least an API list can cost in this stack; the site's frame
    (base.html) with nothing in it, and that plus the page's SQL, the least a page can cost."""
    sql, _ = page_sql(fetch(client, "/api/v1/cases/"), "cases_case")
    base = median_ms(raw(sql), runs)
    rows = []
    floors = [("a bare Django view (middleware only)", "/bench/bare/"),
              ("a bare DRF view (sign-in, user, rate limit, JSON)", "/bench/bare-api/"),
              ("an empty page (sign-in, user, the site's frame and inbox badge)", "/bench/bare-page/")]  # fmt: skip
    for name, url in floors:
        with CaptureQueriesContext(connection) as ctx:
            fetch(client, url)()
        rows.append({"figure": f"floor: {name}", "ours_ms": round(median_ms(fetch(client, url), runs), 2),
                     "queries": len(ctx.captured_queries)})  # fmt: skip
    api, page = rows[1], rows[2]
    rows.append({"figure": "floor: the bare DRF view + the page's SQL", "queries": api["queries"] + 1,
                 "ours_ms": round(api["ours_ms"] + base, 2)})  # fmt: skip
    rows.append({"figure": "floor: the empty page + the page's SQL", "queries": page["queries"] + 1,
                 "ours_ms": round(page["ours_ms"] + base, 2)})  # fmt: skip
    for row in rows:
        row.update(baseline="raw SQL of the API case list's first page", baseline_ms=round(base, 2),
                   ratio=round(row["ours_ms"] / base, 1), goal="(floor)")  # fmt: skip
        print(f"  {row['figure']}: {row['ours_ms']:.1f} ms vs {base:.1f} ms", flush=True)
    return rows


def script_figures(script: str, *args: str) -> list[dict[str, Any]]:
    """The rows another benchmark writes with `--json`, run in its own process and database."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        subprocess.run(  # noqa: S603 - our own script, our own interpreter
            [sys.executable, str(ROOT / "bench" / script), *args, "--json", str(out)], check=True
        )
        return json.loads(out.read_text())["figures"]


def dashboard_figures(runs: int) -> list[dict[str, Any]]:
    """The dashboards beside their raw SQL: bench/dashboard.py (one city of 1,000,000 cases)."""
    return [] if OPTIONS.no_dashboard else script_figures("dashboard.py", "--runs", str(runs))


def supervision_figures() -> list[dict[str, Any]]:
    """The deadline scan beside the same rows written by plain SQL: bench/supervision_scan.py
    (1,000,000 open cases, 50,000 just due)."""
    return [] if OPTIONS.no_supervision else script_figures("supervision_scan.py")


def main() -> None:
    scale = SCALES[OPTIONS.scale]
    started = time.perf_counter()
    tenants = load(scale, OPTIONS.reload)
    print(f"dataset ready in {time.perf_counter() - started:.0f} s ({URL.rsplit('/', 1)[-1]})", flush=True)
    township, city = client_for("bench_township_0"), client_for("bench_city_0")
    root = tree.tenant_root(tenants[0])
    figures: list[tuple[str, Callable[[], Any], str, str]] = [
        ("API case list, first page, township user", fetch(township, "/api/v1/cases/"), "cases_case", "<=3x"),
        ("API case list, page 21, township user", fetch(township, deep(township, "/api/v1/cases/")), "cases_case", "<=3x"),
        ("HTML case list, first page, township user", fetch(township, "/cases/"), "cases_case", "<=5x"),
        ("API households, first page, city user", fetch(city, "/api/v1/registry/households/"), "grids_household", "<=3x"),
        ("API households, page 21, city user", fetch(city, deep(city, "/api/v1/registry/households/")), "grids_household", "<=3x"),
        ("API residents, first page, township user", fetch(township, "/api/v1/registry/residents/"), "grids_resident", "<=3x"),
        ("HTML residents, first page, township user", fetch(township, "/registry/residents/"), "grids_resident", "<=5x"),
        ("HTML households, first page, city user", fetch(city, "/registry/households/"), "grids_household", "<=5x"),
        ("city grid page (children with counts), city user", fetch(city, f"/grid/{root.pk}/"), "grids_gridnode", "<=5x"),
    ]  # fmt: skip
    rows = []
    for name, run, table, goal in figures:
        if OPTIONS.only and OPTIONS.only.lower() not in name.lower():
            continue
        sql, queries = page_sql(run, table)
        ours, base = median_ms(run, OPTIONS.runs), median_ms(raw(sql), OPTIONS.runs)
        rows.append(
            {"figure": name, "ours_ms": round(ours, 2), "baseline": "raw SQL of the page", "baseline_ms": round(base, 2),
             "ratio": round(ours / base, 1), "goal": goal, "queries": queries}
        )  # fmt: skip
        print(f"  {name}: {ours:.1f} ms vs {base:.1f} ms", flush=True)
    if not OPTIONS.only or OPTIONS.only.lower() in "floor":
        rows += floor_figures(township, OPTIONS.runs)
    if not OPTIONS.only:
        load_guardian_baseline(tenants[0])
        rows += guardian_figures(OPTIONS.runs)
        rows += dashboard_figures(OPTIONS.runs)
        rows += supervision_figures()
    width = max(len(r["figure"]) for r in rows)
    print(f"\n{'figure':<{width}}  {'ours':>9}  {'baseline':>10}  {'ratio':>7}  {'goal':>6}  queries")
    for r in rows:
        if r["baseline"].startswith("raw SQL"):
            ratio, goal = (
                f"{r['ratio']:>6.{3 if r['ratio'] < 0.01 else 2 if r['ratio'] < 1 else 1}f}x",
                r["goal"],
            )
        else:  # beside guardian the question is how many times faster we are
            ratio, goal = f"1/{r['baseline_ms'] / r['ours_ms']:>4.0f}", ">=50x faster"
        print(
            f"{r['figure']:<{width}}  {r['ours_ms']:>7.1f}ms  {r['baseline_ms']:>8.1f}ms  "
            f"{ratio:>7}  {goal:>6}  {r['queries'] if r['queries'] is not None else ''}"
        )
    path = Path(OPTIONS.json) if OPTIONS.json else ROOT / "bench" / "results" / f"{OPTIONS.scale}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "scale": OPTIONS.scale,
        "dataset": scale,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "postgres": connection.cursor().connection.info.server_version,
        "runs": OPTIONS.runs,
        "figures": rows,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
