"""Coverage of the whole demo city (every plot of every township): queries and time of the coverage
selector for the city administrator, beside a raw SQL count of the same figure.

    DEBUG=1 DATABASE_URL=... python manage.py seed_demo --full   # or seed_demo, then this script
    DEBUG=1 DATABASE_URL=... python bench/coverage.py
The script gives every township's plots a responsible member first (teams.demo.seed_field_work),
so the page has the whole city to count.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grids.models import GridNode, Level, Tenant  # noqa: E402
from teams import demo, selectors  # noqa: E402
from teams.models import User  # noqa: E402


def best_of(n, func):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, result


def main() -> None:
    ruian = Tenant.objects.get(code="330381")
    demo.seed_field_work(ruian, townships=GridNode.objects.filter(tenant=ruian, level=Level.TOWNSHIP))
    city = GridNode.objects.get(tenant=ruian, level=Level.CITY)
    admin = User.objects.get(username="city_admin")
    with CaptureQueriesContext(connection) as queries:
        cov = selectors.coverage(actor=admin, node=city)
    ms, cov = best_of(5, lambda: selectors.coverage(actor=admin, node=city))

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(a.id) FROM grids_gridnode p LEFT JOIN teams_plotassignment a "
                "ON a.plot_id = p.id AND a.ended_at IS NULL WHERE p.tenant_id = %s AND p.level = 3",
                [ruian.pk],
            )
            return cursor.fetchone()

    raw_ms, (plots, covered) = best_of(5, raw)
    assert (plots, covered) == (cov.plots, cov.covered)
    print(
        f"coverage of the whole city: {cov.plots} plots, {cov.covered} covered ({cov.percent}%), "
        f"{cov.idle_count} members without a plot, {len(cov.children)} townships"
    )
    print(
        f"queries: {len(queries)}; selector {ms:.1f} ms vs raw SQL count {raw_ms:.1f} ms "
        f"(ratio {ms / raw_ms:.1f}x)"
    )


if __name__ == "__main__":
    main()
