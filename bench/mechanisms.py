"""Timings of the mechanisms' scheduled work: opening a month's reviews for a whole city, and the
nightly early-warning scan over a year of incidents at every plot.

    DATABASE_URL=postgres://.../ruian_<name> DEBUG=1 python bench/mechanisms.py [--incidents 200000]
    DATABASE_URL=postgres://.../ruian_<name> DEBUG=1 python bench/mechanisms.py --cities 10

With `--cities 1` (the default) it runs on the demo city (seeded if absent). With `--cities N` it
builds N bench cities of the demo city's shape (38 townships x 30 cells x 3 plots = 3,420 plots each,
a province-size dataset at 10) through `grids.tree`, once. Each city gets a year of synthetic
incidents (`--incidents` per city) spread over every plot, written by one INSERT ... SELECT over
generate_series (once; `--reload` rebuilds), then ANALYZE. Prints each figure (median of 5 runs)
beside its baseline, the same statement in raw SQL alone, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from grids import tree  # noqa: E402
from grids.models import GridNode, Kind, Level, Tenant  # noqa: E402
from mechanisms import services  # noqa: E402
from mechanisms.models import DisputeReview, EarlyWarningDraft  # noqa: E402
from teams.roles import Role  # noqa: E402
from teams.services import user_create  # noqa: E402

SOURCE_REF = "bench-mechanisms"
CODE = "98{:04d}"  # bench-only division codes


def build_city(n: int) -> Tenant:
    """A bench city of the demo city's shape: 38 townships x 30 cells x 3 plots (once)."""
    code = CODE.format(n)
    tenant = Tenant.objects.filter(code=code).first()
    if tenant is not None:
        return tenant
    tenant = tree.tenant_create(name=f"Bench mechanisms city {n}", code=code)
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
    user_create(actor=None, username=f"bench_mech_{n}", home_node=root, role=Role.CITY_ADMIN, password="x")
    return tenant


def median_ms(work, runs: int = 5, reset=None) -> float:
    times = []
    for _ in range(runs):
        if reset:
            reset()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def load(tenant: Tenant, incidents: int, reload: bool) -> int:
    with connection.cursor() as cur:
        if reload:
            cur.execute(
                "DELETE FROM cases_case WHERE tenant_id = %s AND source_ref = %s", [tenant.pk, SOURCE_REF]
            )
        cur.execute(
            "SELECT count(*) FROM cases_case WHERE tenant_id = %s AND source_ref = %s",
            [tenant.pk, SOURCE_REF],
        )
        have = cur.fetchone()[0]
        if have:
            return have
        reporter = tenant.users.order_by("pk").values_list("pk", flat=True).first()
        # Every plot with its cell, township and city; incidents spread over them and over a year.
        cur.execute(
            """
            WITH plots AS (
              SELECT p.id AS plot, c.id AS cell, t.id AS township, t.parent_id AS city,
                     row_number() OVER (ORDER BY p.id) - 1 AS n, count(*) OVER () AS total
              FROM grids_gridnode p JOIN grids_gridnode c ON c.id = p.parent_id
              JOIN grids_gridnode t ON t.id = c.parent_id
              WHERE p.tenant_id = %(tenant)s AND p.level = 3)
            INSERT INTO cases_case (tenant_id, city_id, township_id, cell_id, plot_id, node_id, kind, sub_kind,
              source, source_ref, severity, title, description, address, parties, status, tier, reporter_id,
              deadline_seq, alert_level, extension_minutes, extension_reason, pause_reason, paused_seconds,
              dispute_reason, dispute_seconds, resolution, satisfaction, callback_note, created_at, updated_at,
              version, party_names)
            SELECT %(tenant)s, p.city, p.township, p.cell, p.plot, p.plot, 'incident',
              (ARRAY['burglary','ebike_theft','theft','fight','fraud'])[1 + g %% 5], 'hotline', %(ref)s,
              'general', '测试警情', '', '', '[]', 'closed', 'cell', %(reporter)s, 0, 0, 0, '', '', 0, '', 0, '',
              '', '', now() - (g %% 365) * interval '1 day' - (g %% 24) * interval '1 hour',
              now(), 1, ''
            FROM generate_series(0, %(count)s - 1) g JOIN plots p ON p.n = (g * 7919) %% p.total
            """,
            {"tenant": tenant.pk, "ref": SOURCE_REF, "reporter": reporter, "count": incidents},
        )
        cur.execute("ANALYZE cases_case")
        return incidents


RAW_OPEN = """
INSERT INTO mechanisms_disputereview (tenant_id, city_id, township_id, node_id, month, status, opened_at,
  due_at, analysis, version)
SELECT n.tenant_id, CASE WHEN n.level = 0 THEN n.id ELSE n.parent_id END,
  CASE WHEN n.level = 1 THEN n.id END, n.id, %(month)s, 'open', now(), now(), '', 1
FROM grids_gridnode n WHERE n.tenant_id = %(tenant)s AND n.level <= 1
ON CONFLICT DO NOTHING
"""

RAW_SCAN = """
SELECT plot_id, sub_kind, count(*) FILTER (WHERE created_at >= %(start)s) AS observed,
  count(*) FILTER (WHERE created_at < %(start)s) AS baseline
FROM cases_case WHERE tenant_id = %(tenant)s AND city_id = %(city)s AND kind = 'incident'
  AND created_at >= %(base)s AND created_at < %(end)s AND status <> 'merged' AND plot_id IS NOT NULL
GROUP BY city_id, township_id, cell_id, plot_id, sub_kind
HAVING count(*) FILTER (WHERE created_at >= %(start)s) >= 3
"""


def measure_city(tenant: Tenant, month: dt.date, day: dt.date) -> dict[str, float | int]:
    city = GridNode.objects.get(tenant=tenant, level=Level.CITY)

    def clear_month() -> None:
        DisputeReview.objects.filter(tenant=tenant, month=month).delete()

    ours_open = median_ms(
        lambda: services.reviews_open_month(tenant_id=tenant.pk, month=month), reset=clear_month
    )

    def raw_open() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(RAW_OPEN, {"month": month, "tenant": tenant.pk})

    base_open = median_ms(raw_open, reset=clear_month)
    rerun = median_ms(lambda: services.reviews_open_month(tenant_id=tenant.pk, month=month))
    clear_month()
    week = day - dt.timedelta(days=day.weekday())

    def clear_drafts() -> None:
        EarlyWarningDraft.objects.filter(tenant=tenant, week=week).delete()

    ours_scan = median_ms(
        lambda: services.early_warning_scan(tenant_id=tenant.pk, day=day), reset=clear_drafts
    )
    zone = services.tenant_zone(tenant.pk)
    end = services.local_midnight(day + dt.timedelta(days=1), zone)
    start = end - dt.timedelta(days=7)
    params = {
        "tenant": tenant.pk,
        "city": city.pk,
        "start": start,
        "end": end,
        "base": start - dt.timedelta(weeks=8),
    }

    def raw_scan() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW_SCAN, params)
            cur.fetchall()

    base_scan = median_ms(raw_scan)
    drafts = services.early_warning_scan(tenant_id=tenant.pk, day=day)
    clear_drafts()
    return {
        "open": ours_open,
        "open_raw": base_open,
        "rerun": rerun,
        "scan": ours_scan,
        "scan_raw": base_scan,
        "drafts": drafts,
    }


def timed_ms(work) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cities", type=int, default=1, help="1: the demo city; N: N bench cities")
    parser.add_argument("--incidents", type=int, default=200_000, help="synthetic incidents per city")
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    if args.cities == 1:
        if not Tenant.objects.filter(code="330381").exists():
            call_command("seed_demo")
        tenants = [Tenant.objects.get(code="330381")]
    else:
        tenants = []
        for n in range(args.cities):
            start = time.perf_counter()
            tenants.append(build_city(n))
            print(f"city {n}: grid ready in {time.perf_counter() - start:.1f} s", flush=True)
    built = time.perf_counter()
    total = sum(load(tenant, args.incidents, args.reload) for tenant in tenants)
    print(f"incidents ready in {time.perf_counter() - built:.1f} s ({load_average()})", flush=True)
    plots = GridNode.objects.filter(tenant__in=tenants, level=Level.PLOT).count()
    month = dt.date(2000, 1, 1)
    day = timezone.localdate() - dt.timedelta(days=1)
    print(load_average())
    per_city = [measure_city(tenant, month, day) for tenant in tenants]

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in per_city)

    # The nightly jobs as beat runs them: one task per city, one after the other.
    week = day - dt.timedelta(days=day.weekday())
    ids = [t.pk for t in tenants]
    whole_open = timed_ms(lambda: [services.reviews_open_month(tenant_id=t, month=month) for t in ids])
    DisputeReview.objects.filter(tenant_id__in=ids, month=month).delete()
    whole_scan = timed_ms(lambda: [services.early_warning_scan(tenant_id=t, day=day) for t in ids])
    EarlyWarningDraft.objects.filter(tenant_id__in=ids, week=week).delete()
    print(load_average())
    print(
        f"{len(tenants)} cities: {plots} plots, {39 * len(tenants)} review nodes, "
        f"{total} synthetic incidents over a year"
    )
    print(f"{'figure (one city, median over the cities)':48} {'ours ms':>9} {'baseline ms':>12} {'ratio':>6}")
    for label, ours, base in (
        ("open a month of reviews (city + 38 townships)", med("open"), med("open_raw")),
        ("  rerun of the same month (writes nothing)", med("rerun"), med("open_raw")),
        ("nightly early-warning scan (plot + cell level)", med("scan"), med("scan_raw")),
    ):
        print(f"{label:48} {ours:9.1f} {base:12.1f} {ours / base:6.2f}")
    print(f"{'every city, one after the other (as beat runs)':48} {'ms':>9}")
    print(f"{'  open the month of reviews':48} {whole_open:9.1f}")
    print(f"{'  nightly early-warning scan':48} {whole_scan:9.1f}")
    print(f"  drafts raised on this synthetic (stationary) data: {sum(int(r['drafts']) for r in per_city)}")


if __name__ == "__main__":
    main()
