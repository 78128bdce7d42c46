"""`make faults`: stop and restart the services under a running stack and check the product copes.

Starts a throwaway stack on loopback (ops/stack.py: its own PostgreSQL on FAULTS_PG_PORT, default
5440, its own Redis on 6390, gunicorn with two workers on 8790, one Celery worker and beat), loads the demo
city, then runs three scenarios and prints PASS or FAIL for each; exits 1 when any failed.

1. Redis stopped: pages and writes still answer, /healthz says 503 naming the broker, and the work
   queued meanwhile (a registry import) runs once Redis is back, every row once.
2. A worker killed halfway through a task (the pool process running a registry import, SIGKILL):
   the task is redelivered (acks_late, reject_on_worker_lost) and its effect applied once.
3. PostgreSQL restarted under load: requests in flight fail cleanly (an error status, no hang, no
   traceback, within gunicorn's 30 s timeout), and service resumes without restarting the app (same gunicorn workers).

    .venv/bin/python ops/faults.py [--keep]      # --keep leaves the stack's folder for its logs
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.stack import Client, Stack, children  # noqa: E402

STAFF = "shangwang_staff"  # township staff of 上望街道 in the demo city: may import into its plots
RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> bool:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    return ok


# --- data: a residents workbook for one demo plot (Django set up against the stack's database) ------


def setup_django(stack: Stack) -> None:
    os.environ.update(stack.env())
    os.environ["DJANGO_SETTINGS_MODULE"] = "ruian_grid.settings"
    import django

    django.setup()


def workbook(run: str, rows: int, start: int) -> bytes:
    from openpyxl import Workbook

    from grids.models import GridNode
    from grids.registry.importing import COLUMNS
    from grids.registry.synthetic import mobile, resident_id

    township = GridNode.objects.get(name="上望街道", level=1)
    plot = GridNode.objects.filter(
        tree_id=township.tree_id, lft__gt=township.lft, rght__lt=township.rght, level=3
    )
    code = plot.order_by("lft").values_list("code", flat=True)[0]
    book = Workbook()
    sheet = book.active
    sheet.append([c.header for c in COLUMNS["residents"]])
    for i in range(rows):
        n = start + i
        row = {
            "plot": code,
            "household": f"{run}-{i // 3:05d}",
            "address": f"故障演练{run}号{i // 3}",
            "building": "",
            "room": "",
            "tags": "",
            "name": f"演练居民{n}",
            "id_type": "居民身份证",
            "id_number": resident_id(n),
            "relation": "户主" if i % 3 == 0 else "子女",
            "population_type": "户籍人口",
            "phone": mobile(n),
        }
        sheet.append([row[c.key] for c in COLUMNS["residents"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def residents_of(run: str) -> tuple[int, int]:
    """Rows and distinct people imported under `run` (equal when nothing was applied twice)."""
    from django.db import close_old_connections

    from grids.registry.models import Resident

    close_old_connections()
    qs = Resident.objects.filter(household__number__startswith=f"{run}-")
    return qs.count(), qs.values("id_number_hash").distinct().count()


def jobs_since(pk: int) -> list[tuple[int, str]]:
    from django.db import close_old_connections

    from grids.registry.models import ImportJob

    close_old_connections()
    return list(ImportJob.objects.filter(pk__gt=pk).order_by("pk").values_list("pk", "status"))


def wait_job(api: Client, job_id: int, timeout: float, until: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        status, body = api.get(f"/api/v1/registry/imports/{job_id}/")
        if status == 200:
            job = json.loads(body)
            if until(job):
                return job
        time.sleep(0.25)
    return job


# --- scenarios ----------------------------------------------------------------------------------


def redis_stopped(stack: Stack, api: Client, page: Client) -> None:
    rows = 300
    data = workbook("RD", rows, 700_000)
    before = jobs_since(0)[-1][0] if jobs_since(0) else 0
    stack.redis_stop()
    try:
        bad = []
        for path in ("/", "/cases/", "/registry/", "/api/v1/grids/"):
            status, _ = page.get(path) if not path.startswith("/api/") else api.get(path)
            if status >= 500:
                bad.append(f"{path} {status}")
        check("redis down: pages answer", not bad, ", ".join(bad) or "/, /cases/, /registry/, /api/v1/grids/")
        started = time.monotonic()
        status, body = api.upload("/api/v1/registry/imports/", {"kind": "residents"}, "演练.xlsx", data)
        took = time.monotonic() - started
        job_id = body.get("id") if isinstance(body, dict) else None
        check("redis down: a write that queues work is accepted", status == 201 and took < 10,
              f"POST /api/v1/registry/imports/ → {status} in {took:.1f}s")  # fmt: skip
        status, body = page.get("/healthz")
        failing = json.loads(body).get("failing", []) if body.startswith(b"{") else []
        check("redis down: /healthz 503 naming the broker", status == 503 and failing == ["broker"],
              f"{status} failing={failing}")  # fmt: skip
    finally:
        stack.redis_start()
    if job_id is None:
        # The upload failed: did it leave a job behind that nobody will run?
        time.sleep(20)
        left = [f"#{pk} {st}" for pk, st in jobs_since(before)]
        check("redis back: queued work runs, nothing lost", False,
              f"the upload was refused; jobs left from it 20s after Redis returned: {left or 'none'}")  # fmt: skip
        return
    # The outbox relay (beat, every minute) hands the work to the broker once it answers.
    job = wait_job(api, job_id, 150, lambda j: j.get("finished"))
    added, distinct = residents_of("RD")
    check("redis back: queued work runs, nothing lost",
          job.get("status") == "done" and added == distinct == rows,
          f"job {job.get('status')}, {added} residents imported of {rows} ({distinct} distinct)")  # fmt: skip


def worker_killed(stack: Stack, api: Client) -> None:
    rows = 3000
    status, body = api.upload("/api/v1/registry/imports/", {"kind": "residents"}, "演练.xlsx",
                              workbook("WK", rows, 710_000))  # fmt: skip
    if status != 201:
        check("worker killed: task redelivered, applied once", False, f"upload refused: {status} {body}")
        return
    worker = stack.procs["worker"]
    job = wait_job(api, body["id"], 60, lambda j: j.get("finished") or (j.get("processed_rows") or 0) >= 300)
    pool = children(worker.pid)
    if job.get("finished") or not pool:
        check("worker killed: task redelivered, applied once", False,
              f"could not catch the task halfway (job {job.get('status')}, pool {pool})")  # fmt: skip
        return
    halfway = job.get("processed_rows")
    for pid in pool:
        os.kill(pid, signal.SIGKILL)
    job = wait_job(api, body["id"], 120, lambda j: j.get("finished"))
    added, distinct = residents_of("WK")
    new_pool = children(worker.pid) if worker.poll() is None else []
    check("worker killed: task redelivered, applied once",
          job.get("status") == "done" and added == distinct == rows and bool(new_pool),
          f"killed pool {pool} at row {halfway}; job {job.get('status')}, {added} residents of {rows} "
          f"({distinct} distinct); new pool {new_pool}")  # fmt: skip


def postgres_restarted(stack: Stack, clients: list[Client]) -> None:
    workers_before = stack.web_workers()
    paths = ["/cases/", "/registry/", "/api/v1/grids/", "/healthz"]
    log: list[tuple[float, str, object, float, bytes]] = []
    stop = threading.Event()
    t0 = time.monotonic()

    def load(client: Client, offset: int) -> None:
        i = offset
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            began = time.monotonic()
            try:
                status, body = client.get(path)
            except Exception as exc:  # noqa: BLE001 - every transport failure is a finding
                status, body = type(exc).__name__, b""
            log.append((began - t0, path, status, time.monotonic() - began, body[:4000]))

    threads = [threading.Thread(target=load, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    time.sleep(4)
    restart_began = time.monotonic() - t0
    stack.postgres_restart()
    restart_done = time.monotonic() - t0
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join(30)
    during = [e for e in log if e[0] < restart_done + 1]
    after = [e for e in log if e[0] >= restart_done + 3]
    unclean = [e for e in during if not isinstance(e[2], int) or e[3] > 30 or b"Traceback" in e[4]]
    failed = sum(1 for e in during if isinstance(e[2], int) and e[2] >= 500)
    after_bad = [e for e in after if not (isinstance(e[2], int) and e[2] < 400)]
    workers_after = stack.web_workers()
    check("postgres restart: in-flight requests fail cleanly", not unclean,
          f"{len(during)} requests up to 1s after the restart ({restart_began:.1f}s–{restart_done:.1f}s), "
          f"{failed} answered 5xx, {len(unclean)} unclean {[(p, s) for _, p, s, _, _ in unclean[:5]]}")  # fmt: skip
    check("postgres restart: service resumes without restarting the app",
          bool(after) and not after_bad and workers_after == workers_before,
          f"{len(after)} requests from 3s after: {len(after_bad)} failed "
          f"{sorted({str(s) for _, _, s, _, _ in after_bad})}; gunicorn workers {workers_before} → {workers_after}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder (logs) afterwards")
    opts = parser.parse_args()
    stack = Stack(
        name="ruian_faults",
        pg_port=int(os.environ.get("FAULTS_PG_PORT", "5440")),
        redis_port=int(os.environ.get("FAULTS_REDIS_PORT", "6390")),
        web_port=int(os.environ.get("FAULTS_WEB_PORT", "8790")),
    )
    print(f"stack in {stack.dir}", flush=True)
    try:
        stack.postgres_start()
        stack.redis_start()
        started = time.monotonic()
        stack.prepare()
        print(f"database ready with the demo city in {time.monotonic() - started:.0f}s", flush=True)
        setup_django(stack)
        stack.web_start(workers=2)
        # Small batches so that a task can be caught halfway.
        stack.worker_start(REGISTRY_IMPORT_BATCH="100")
        stack.beat_start()
        api = Client(stack.base)
        api.api_login(STAFF)
        page = Client(stack.base)
        page.login(STAFF)
        redis_stopped(stack, api, page)
        worker_killed(stack, api)
        loaders = []
        for _ in range(4):
            c = Client(stack.base, timeout=45)
            c.login(STAFF)
            loaders.append(c)
        postgres_restarted(stack, loaders)
    finally:
        stack.close(keep=opts.keep or any(not ok for _, ok, _ in RESULTS))
        if opts.keep or any(not ok for _, ok, _ in RESULTS):
            print(f"logs kept in {stack.dir}")
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not RESULTS else 0


if __name__ == "__main__":
    sys.exit(main())
