"""Timings of the mechanisms' scheduled work on the demo city: opening a month's reviews for the
whole city, and the nightly early-warning scan over a year of incidents at every plot.

    DATABASE_URL=postgres://.../ruian_<name> DEBUG=1 python bench/mechanisms.py [--incidents 200000]

Seeds the demo city if absent, then writes a year of synthetic incidents spread over every plot
with one INSERT ... SELECT over generate_series (once; rerun with --reload to rebuild), ANALYZE, and
prints each figure (median of 5 runs) beside its baseline: the same statement in raw SQL alone.
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

from grids.models import GridNode, Level, Tenant  # noqa: E402
from mechanisms import services  # noqa: E402
from mechanisms.models import DisputeReview, EarlyWarningDraft  # noqa: E402

SOURCE_REF = "bench-mechanisms"


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
            cur.execute("DELETE FROM cases_case WHERE source_ref = %s", [SOURCE_REF])
        cur.execute("SELECT count(*) FROM cases_case WHERE source_ref = %s", [SOURCE_REF])
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
              version)
            SELECT %(tenant)s, p.city, p.township, p.cell, p.plot, p.plot, 'incident',
              (ARRAY['burglary','ebike_theft','theft','fight','fraud'])[1 + g %% 5], 'hotline', %(ref)s,
              'general', '测试警情', '', '', '[]', 'closed', 'cell', %(reporter)s, 0, 0, 0, '', '', 0, '', 0, '',
              '', '', now() - (g %% 365) * interval '1 day' - (g %% 24) * interval '1 hour',
              now(), 1
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    if not Tenant.objects.filter(code="330381").exists():
        call_command("seed_demo")
    tenant = Tenant.objects.get(code="330381")
    city = GridNode.objects.get(tenant=tenant, level=Level.CITY)
    plots = GridNode.objects.filter(tenant=tenant, level=Level.PLOT).count()
    total = load(tenant, args.incidents, args.reload)
    month = dt.date(2000, 1, 1)

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

    day = timezone.localdate() - dt.timedelta(days=1)

    def clear_drafts() -> None:
        EarlyWarningDraft.objects.filter(tenant=tenant, week=day - dt.timedelta(days=day.weekday())).delete()

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
    print(f"city: {plots} plots, 39 review nodes, {total} synthetic incidents over a year")
    print(f"{'figure':48} {'ours ms':>9} {'baseline ms':>12} {'ratio':>6}")
    print(
        f"{'open a month of reviews (city + 38 townships)':48} {ours_open:9.1f} {base_open:12.1f} {ours_open / base_open:6.2f}"
    )
    print(
        f"{'  rerun of the same month (writes nothing)':48} {rerun:9.1f} {base_open:12.1f} {rerun / base_open:6.2f}"
    )
    print(
        f"{'nightly early-warning scan (plot + cell level)':48} {ours_scan:9.1f} {base_scan:12.1f} {ours_scan / base_scan:6.2f}"
    )
    print(f"  drafts raised by the scan on this synthetic (stationary) data: {drafts}")


if __name__ == "__main__":
    main()
