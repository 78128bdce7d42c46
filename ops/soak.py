"""`make soak`: a steady rate of requests on the main pages and endpoints for a fixed time.

Starts a throwaway stack on loopback (ops/stack.py: own PostgreSQL on SOAK_PG_PORT, default 5441, own
Redis on 6391, gunicorn with two workers on 8791) with the demo city, signs in demo users of every
tier, warms up, then sends SOAK_RATE requests a second (default 20) for SOAK_SECONDS (default 60),
spread over the users' pages and API lists. Passes when no request failed (no status of 400 or more,
no transport error) and each gunicorn worker's resident memory at the end is within SOAK_RSS_TOLERANCE
(default 10%, at least 8 MiB) of what it was after the warm-up.

    SOAK_SECONDS=300 SOAK_RATE=30 .venv/bin/python ops/soak.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.stack import Client, Stack, rss_kib  # noqa: E402

USERS = ["city_admin", "shangwang_staff", "tangxia_staff", "jiusan_member", "dept_police"]
COMMON = ["/cases/", "/api/v1/cases/", "/healthz"]
GRID_USERS = ["/registry/", "/registry/households/", "/registry/residents/", "/api/v1/grids/",
              "/api/v1/registry/households/"]  # fmt: skip


def paths_for(client: Client, username: str) -> list[str]:
    """The pages a user of this tier opens: home grid, lists, one case and one household."""
    paths = list(COMMON)
    status, _, headers = client.request("GET", "/")
    if status == 302 and headers.get("Location", "").startswith("/grid/"):
        paths.append(headers["Location"])
        paths += GRID_USERS
        households = client.json("/api/v1/registry/households/?page_size=1").get("results", [])
        paths += [f"/registry/households/{h['id']}/" for h in households]
    cases = client.json("/api/v1/cases/?page_size=1").get("results", [])
    paths += [f"/cases/{c['id']}/" for c in cases]
    return paths


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "60"))
    rate = float(os.environ.get("SOAK_RATE", "20"))
    tolerance = float(os.environ.get("SOAK_RSS_TOLERANCE", "0.10"))
    stack = Stack(
        name="ruian_soak",
        pg_port=int(os.environ.get("SOAK_PG_PORT", "5441")),
        redis_port=int(os.environ.get("SOAK_REDIS_PORT", "6391")),
        web_port=int(os.environ.get("SOAK_WEB_PORT", "8791")),
    )
    print(f"stack in {stack.dir}", flush=True)
    try:
        stack.postgres_start()
        stack.redis_start()
        stack.prepare()
        stack.web_start(workers=2)
        sessions = []
        for username in USERS:
            client = Client(stack.base, timeout=30)
            client.login(username)
            sessions.append((username, client, paths_for(client, username)))
        plan = [(c, p) for _, c, paths in sessions for p in paths]
        print(f"{len(plan)} user-page pairs over {len(USERS)} users; warming up", flush=True)
        for client, path in plan * 3:
            client.get(path)
        workers = stack.web_workers()
        rss_start = {pid: rss_kib(pid) for pid in workers}

        results: list[tuple[str, object, float]] = []
        lock = threading.Lock()
        threads_n = max(2, min(16, int(rate // 2)))
        interval = threads_n / rate
        began = time.monotonic()
        deadline = began + seconds

        def run(offset: int) -> None:
            k = offset
            next_at = began + offset * (interval / threads_n)
            while next_at < deadline and time.monotonic() < deadline:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                client, path = plan[k % len(plan)]
                k += threads_n
                t = time.monotonic()
                try:
                    status: object = client.get(path)[0]
                except Exception as exc:  # noqa: BLE001 - every transport failure counts as an error
                    status = type(exc).__name__
                with lock:
                    results.append((path, status, time.monotonic() - t))
                next_at += interval

        threads = [threading.Thread(target=run, args=(n,)) for n in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - began
        rss_end = {pid: rss_kib(pid) for pid in workers}
        same_workers = stack.web_workers() == workers
    finally:
        stack.close()

    errors = [(p, s) for p, s, _ in results if not (isinstance(s, int) and s < 400)]
    latencies = sorted(d for _, _, d in results)
    p50 = statistics.median(latencies) * 1000 if latencies else 0
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0
    print(f"{len(results)} requests in {took:.0f}s ({len(results) / took:.1f}/s, target {rate:g}/s); "
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; errors {len(errors)}")  # fmt: skip
    by_path: dict[str, int] = {}
    for p, _ in errors:
        by_path[p] = by_path.get(p, 0) + 1
    if errors:
        print(f"errors by path: {json.dumps(by_path, ensure_ascii=False)}; first: {errors[:5]}")
    flat = True
    for pid in workers:
        start, end = rss_start[pid], rss_end[pid]
        allowed = max(start * tolerance, 8 * 1024)
        ok = end - start <= allowed
        flat = flat and ok
        print(f"worker {pid}: RSS {start / 1024:.1f} MiB → {end / 1024:.1f} MiB "
              f"({(end - start) / 1024:+.1f} MiB, allowed +{allowed / 1024:.1f}) {'ok' if ok else 'GROWING'}")  # fmt: skip
    passed = not errors and flat and same_workers and len(results) > 0
    print(f"{'PASS' if passed else 'FAIL'}  soak: {len(errors)} errors, memory {'flat' if flat else 'growing'}, "
          f"workers {'unchanged' if same_workers else 'restarted'}")  # fmt: skip
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
