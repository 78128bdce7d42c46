"""`make bench-http [SCALE=small|province]`: HTTP under bounded load, each endpoint beside a bare view.

Serves the `make bench` dataset (built by bench/run.py, in `ruian_bench_<scale>`) with gunicorn, two
sync workers, production settings (DEBUG off, Redis cache), and a URL conf that adds bare views
(bench/bench_urls.py, never in the product's: the baseline, and the floors of an API call and of a page).
Then, endpoint after endpoint, CLIENTS threads send
requests back to back for SECONDS each (a closed loop: a client sends its next request when the last
one is answered) and the table gives requests per second, p50/p95/p99 latency and errors, and each
endpoint's throughput as a share of the bare view's. Goal: 0 errors, each main endpoint >= 40% of the
bare view.

The load generator is Python threads over http.client (locust is not in the environment); it runs on
the same machine as the server and takes some of its CPU, which lowers every figure alike.

    .venv/bin/python bench/http_load.py --seconds 20 --clients 8
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "x"  # the bench users' password (bench/run.py)


def database_url(scale: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    name = os.environ.get("BENCH_DATABASE_NAME") or f"ruian_bench_{scale}"
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def prepare(url: str) -> dict[str, Any]:
    """A field member responsible for one plot of the bench township (who may record visits there),
    and the ids the endpoints need. Idempotent."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")
    import django

    django.setup()
    from cases import selectors as case_selectors
    from grids.models import GridNode, Household, Level
    from teams import services
    from teams.models import PlotAssignment, User
    from teams.roles import Role

    try:
        township_user = User.objects.get(username="bench_township_0")
    except User.DoesNotExist:
        raise SystemExit("no bench dataset: run `make bench` first") from None
    township = township_user.home_node
    assert township is not None
    cell = GridNode.objects.filter(parent=township, level=Level.CELL).order_by("code").first()
    plot = GridNode.objects.filter(parent=cell, level=Level.PLOT).order_by("code").first()
    assert cell is not None and plot is not None
    member = User.objects.filter(username="bench_member_0").first()
    if member is None:
        member = services.user_create(
            actor=None, username="bench_member_0", home_node=cell, role=Role.CELL_MEMBER, password=PASSWORD
        )
    if not PlotAssignment.objects.filter(plot=plot, member=member, ended_at__isnull=True).exists():
        team = services.service_team_of(cell) or services.service_team_create(actor=None, cell=cell)
        services.team_member_add(actor=None, team=team, user=member)
        services.plot_assign(actor=None, plot=plot, member=member)
    households = list(Household.objects.filter(plot=plot).order_by("id").values_list("id", flat=True)[:50])
    case = case_selectors.case_list(township_user).values_list("id", flat=True)[:1].get()
    return {"households": households, "case": case}


def static_root() -> Path:
    """Collected static files for DEBUG-off serving (whitenoise's manifest), once."""
    path = ROOT / "var" / "bench-static"
    if not (path / "staticfiles.json").exists():
        env = {**server_env(""), "STATIC_ROOT": str(path)}
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
    return path


def server_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    dev_key = base64.b64encode(b"bench-only-registry-key-32-bytes").decode()
    env.update(
        DATABASE_URL=url or "sqlite:///:memory:",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        MEDIA_ROOT=str(ROOT / "var" / "bench-media"),
        REGISTRY_ENCRYPTION_KEYS=f"bench:{dev_key}",
        REGISTRY_HASH_KEY=dev_key,
        LOG_LEVEL="ERROR",
        # The API's per-user rate limit (600/minute) would answer most of a throughput test with 429;
        # the limit is still checked on every request (a cache read and write), only set out of reach.
        API_THROTTLE_USER="1000000/minute",
    )
    return env


class Session:
    """A signed-in user's cookies (session, CSRF), taken through the sign-in form."""

    def __init__(self, port: int, username: str):
        self.port = port
        self.cookies: dict[str, str] = {}
        status, body, _ = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert status == 200 and token, status
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
        )
        status, _, _ = self.request(
            "POST", "/accounts/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, f"sign-in as {username}: {status}"

    def headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {
            "Cookie": cookie,
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Accept-Language": "zh-hans",
        }

    def request(
        self, method: str, path: str, body: bytes | None = None, extra: dict[str, str] | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=body, headers={**self.headers(), **(extra or {})})
        response = conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, data, response


def hammer(
    port: int, method: str, path: str, headers: dict[str, str], body: Any, clients: int, seconds: float
) -> dict[str, Any]:
    """CLIENTS threads sending back to back for SECONDS: rps, percentiles, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = time.perf_counter()
    stop = start + seconds

    def client() -> None:
        mine: list[float] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            payload = body() if callable(body) else body
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                ok = response.status < 400
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                ok, status = False, type(exc).__name__
            t1 = time.perf_counter()
            if t1 > stop:
                break  # answered after the window: not counted
            mine.append(t1 - t0)
            if not ok:
                with lock:
                    errors.append(status)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not come up on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("SCALE", "small") or "small")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_HTTP_SECONDS", "20")))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_HTTP_CLIENTS", "8")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_HTTP_PORT", "8793")))
    args = parser.parse_args()
    url = database_url(args.scale)
    ids = prepare(url)
    env = {**server_env(url), "STATIC_ROOT": str(static_root())}
    (ROOT / "var" / "bench-media").mkdir(parents=True, exist_ok=True)
    log = (ROOT / "var" / "bench-gunicorn.log").open("ab")
    server = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "bench_wsgi", "--pythonpath", "bench", "-w", "2",
         "-b", f"127.0.0.1:{args.port}", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_port(args.port)
        township = Session(args.port, "bench_township_0")
        city = Session(args.port, "bench_city_0")
        member = Session(args.port, "bench_member_0")
        households = ids["households"]
        counter = iter(range(10**9))
        from django.utils import timezone

        today = timezone.localdate().isoformat()  # the server's calendar day

        def visit() -> bytes:
            n = next(counter)
            return json.dumps(
                {"client_id": str(uuid.uuid4()), "household": str(households[n % len(households)]),
                 "visited_on": today, "seen": "bench"}
            ).encode()  # fmt: skip

        endpoints: list[tuple[str, str, str, Session, Any]] = [
            ("bare Django view (baseline)", "GET", "/bench/bare/", township, None),
            # The floors (bench/bench_urls.py): what every API call and every page costs before its work.
            ("floor: bare DRF view (sign-in, user, rate limit)", "GET", "/bench/bare-api/", township, None),
            ("floor: empty page (sign-in, user, frame)", "GET", "/bench/bare-page/", township, None),
            ("API case list, township user", "GET", "/api/v1/cases/", township, None),
            ("HTML case list, township user", "GET", "/cases/", township, None),
            ("case page, township user", "GET", f"/cases/{ids['case']}/", township, None),
            ("API households, city user", "GET", "/api/v1/registry/households/", city, None),
            ("HTML residents, township user", "GET", "/registry/residents/", township, None),
            ("visit creation (API POST), field member", "POST", "/api/v1/visits/", member, visit),
        ]
        rows = []
        for name, method, path, who, body in endpoints:
            headers = who.headers()
            if method == "POST":
                headers["Content-Type"] = "application/json"
            status, _, _ = who.request(method, path, body() if callable(body) else body, headers)
            assert status < 400, (name, status)  # warm, and fail early on a refusal
            figures = hammer(args.port, method, path, headers, body, args.clients, args.seconds)
            rows.append(
                {"endpoint": name, "method": method, "path": re.sub(r"/\d+/", "/<id>/", path), **figures}
            )
            print(f"  {name}: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, errors {figures['errors']}",
                  flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare = rows[0]["rps"] or 1.0
    for r in rows:
        r["share_of_bare"] = round(r["rps"] / bare, 3)
    load = os.getloadavg()
    width = max(len(r["endpoint"]) for r in rows)
    print(f"\n{'endpoint':<{width}}  {'req/s':>7}  {'p50':>7}  {'p95':>7}  {'p99':>7}  errors  of bare  goal")
    for r in rows:
        goal = "" if r is rows[0] else "(floor)" if r["endpoint"].startswith("floor") else ">=40%"
        print(
            f"{r['endpoint']:<{width}}  {r['rps']:>7.1f}  {r['p50_ms']:>5.0f}ms  {r['p95_ms']:>5.0f}ms  "
            f"{r['p99_ms']:>5.0f}ms  {r['errors']:>6}  {r['share_of_bare']:>6.0%}  {goal}"
        )
    print(f"gunicorn 2 sync workers, {args.clients} clients, {args.seconds:.0f} s each; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    out = ROOT / "bench" / "results" / f"http-{args.scale}.json"
    out.write_text(
        json.dumps(
            {"scale": args.scale, "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "workers": 2, "clients": args.clients, "seconds_each": args.seconds,
             "load_average": [round(x, 2) for x in load], "endpoints": rows},
            ensure_ascii=False, indent=2,
        ) + "\n"
    )  # fmt: skip
    print(f"written to bench/results/{out.name}")


if __name__ == "__main__":
    main()
