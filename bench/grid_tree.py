"""Grid benchmarks: seed_demo at its default scale, and the tree page / grids API on the full city.

    make bench                       # SQLite in var/bench.sqlite3
    DATABASE_URL=postgres://... make bench

Prints figures; asserts nothing (the suite asserts query counts, not times).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault(
    "DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent.parent / 'var' / 'bench.sqlite3'}"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
(Path(__file__).resolve().parent.parent / "var").mkdir(exist_ok=True)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grids.models import GridNode, Level  # noqa: E402
from teams.models import User  # noqa: E402


def timed(label: str, fn, repeat: int = 20) -> None:
    fn()  # warm up
    samples = []
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    print(
        f"{label:<48} median {statistics.median(samples):7.1f} ms  p90 {sorted(samples)[int(repeat * 0.9) - 1]:7.1f} ms"
        f"  queries/request {len(ctx.captured_queries) / repeat:.0f}"
    )


def main() -> None:
    print(f"database: {connection.vendor}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"seed_demo (default scale, idempotent when already loaded): {time.perf_counter() - started:.1f} s")
    client = Client()
    client.force_login(User.objects.get(username="city_admin"))
    city = GridNode.objects.get(tenant__code="330381", level=Level.CITY)
    town = GridNode.objects.get(tenant__code="330381", name="塘下镇")
    reset_queries()
    timed("tree page, city (38 children)", lambda: client.get(f"/grid/{city.pk}/"))
    timed("tree page, township", lambda: client.get(f"/grid/{town.pk}/"))
    timed("API list, first page of ~3,800 nodes", lambda: client.get("/api/v1/grids/"))
    timed("API children of the city", lambda: client.get(f"/api/v1/grids/{city.pk}/children/"))
    timed("API search '村'", lambda: client.get("/api/v1/grids/", {"search": "村"}))


if __name__ == "__main__":
    main()
