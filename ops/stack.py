"""A throwaway production-like stack on loopback for `make faults` and `make soak`.

Its own PostgreSQL (initdb into a temporary folder, started with pg_ctl), its own Redis, gunicorn with
two workers and a Celery worker, all on ports of their own, so stopping and restarting them never
touches the machine's shared services. Every process is started here and stopped here by its id.
Plus a small HTTP client (standard library only) that signs in like a browser or with an API token.
"""

from __future__ import annotations

import contextlib
import glob
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEMO_PASSWORD = "ruian-demo-2026"  # noqa: S105 - the published demo sign-in


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    return Path(found[-1])


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port} after {timeout:.0f}s")


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (from /proc)."""
    found: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in Path(task).read_text().split()]
    return sorted(found)


def rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


@dataclass
class Stack:
    name: str
    pg_port: int
    redis_port: int
    web_port: int
    log: Any = sys.stdout
    dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ruian-stack-")))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pg_running: bool = False

    # --- environment --------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{self.name}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            DEBUG="0",
            SECRET_KEY=f"stack-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            SECURE_HSTS_SECONDS="0",
            STATIC_ROOT=str(self.dir / "static"),
            MEDIA_ROOT=str(self.dir / "media"),
            # The development keys (base64 of fixed strings): this stack holds synthetic people only.
            REGISTRY_ENCRYPTION_KEYS="dev:ZGV2LW9ubHktcmVnaXN0cnkta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=",
            REGISTRY_HASH_KEY="ZGV2LW9ubHktcmVnaXN0cnktaGFzaC1rZXktbm90LWZvci1wcm9kdWN0aW9u",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def say(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    def _run(self, *cmd: str, env: dict[str, str] | None = None, user: str | None = None) -> None:
        full = ["runuser", "-u", user, "--", *cmd] if user and os.geteuid() == 0 else list(cmd)
        out = self.dir / "setup.log"
        with out.open("ab") as fh:
            proc = subprocess.run(full, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)  # noqa: S603
        if proc.returncode:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}; see {out}")

    def _spawn(self, key: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        logfile = (self.dir / f"{key}.log").open("ab")
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT)  # noqa: S603
        self.procs[key] = proc
        return proc

    def _stop(self, key: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        proc = self.procs.pop(key, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    # --- services -----------------------------------------------------------------------------

    def redis_start(self) -> None:
        data = self.dir / "redis"
        data.mkdir(exist_ok=True)
        # Append-only file, fsynced: what was queued before a stop is there after the restart.
        cmd = [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port)]
        cmd += ["--bind", "127.0.0.1", "--dir", str(data), "--save", "", "--appendonly", "yes"]
        cmd += ["--appendfsync", "always", "--daemonize", "no"]
        self._spawn("redis", cmd, self.env())
        _wait_port(self.redis_port)

    def redis_stop(self) -> None:
        self._stop("redis")

    def _pg_ctl(self, *args: str) -> None:
        data = self.dir / "pg"
        opts = f"-p {self.pg_port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(_pg_bin() / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "log"), "-w",
                  *args, user="postgres")  # fmt: skip

    def postgres_start(self) -> None:
        data = self.dir / "pg"
        if not data.exists():
            data.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres")
                shutil.chown(data, "postgres")
            self._run(str(_pg_bin() / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--locale", "C.UTF-8", user="postgres")  # fmt: skip
        self._pg_ctl("start")
        self.pg_running = True

    def postgres_restart(self) -> None:
        """Fast restart: open connections are cut and in-flight transactions rolled back."""
        self._pg_ctl("restart", "-m", "fast")

    def postgres_stop(self) -> None:
        if self.pg_running:
            self._pg_ctl("stop", "-m", "fast")
            self.pg_running = False

    def prepare(self) -> None:
        """A database with the schema and the demo city, and static files for production settings."""
        env = self.env()
        self._run(str(_pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                  self.name)  # fmt: skip
        py = str(VENV_BIN / "python")
        self._run(py, "manage.py", "migrate", "--noinput", "-v0", env=env)
        self._run(py, "manage.py", "sync_schedule", env=env)
        self._run(py, "manage.py", "seed_demo", env=env)
        self._run(py, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
        self._run(py, "manage.py", "compilemessages", "--ignore=.venv", "-v0", env=env)

    def web_start(self, workers: int = 2) -> subprocess.Popen[bytes]:
        cmd = [
            str(VENV_BIN / "gunicorn"),
            "ruian_grid.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.web_port}",
        ]
        cmd += ["--timeout", "30", "--graceful-timeout", "5"]
        proc = self._spawn("web", cmd, self.env())
        _wait_port(self.web_port)
        return proc

    def web_workers(self) -> list[int]:
        return children(self.procs["web"].pid)

    def worker_start(self, **extra_env: str) -> subprocess.Popen[bytes]:
        cmd = [str(VENV_BIN / "celery"), "-A", "ruian_grid", "worker", "--concurrency", "1", "-P", "prefork"]
        cmd += ["--loglevel", "INFO", "-n", f"{self.name}@%h"]
        return self._spawn("worker", cmd, self.env(**extra_env))

    def beat_start(self) -> subprocess.Popen[bytes]:
        """Celery beat on its own (the schedule in the database: the outbox relay every minute)."""
        cmd = [str(VENV_BIN / "celery"), "-A", "ruian_grid", "beat", "--loglevel", "INFO"]
        cmd += ["--pidfile", str(self.dir / "beat.pid")]
        return self._spawn("beat", cmd, self.env())

    def worker_stop(self) -> None:
        self._stop("worker")

    def close(self, keep: bool = False) -> None:
        for key in ("beat", "worker", "web", "redis"):
            self._stop(key)
        with contextlib.suppress(SystemExit):
            self.postgres_stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """A browser-like session (cookies, CSRF) or an API token, over urllib."""

    def __init__(self, base: str, timeout: float = 60.0) -> None:
        self.base = base
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.token = ""

    def request(
        self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        hdrs = {"Accept-Language": "zh-hans", **(headers or {})}
        if self.token:
            hdrs["Authorization"] = f"Token {self.token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)  # noqa: S310
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def get(self, path: str) -> tuple[int, bytes]:
        status, body, _ = self.request("GET", path)
        return status, body

    def json(self, path: str) -> Any:
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return json.loads(body)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        status, body = self.get("/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not match:
            raise RuntimeError(f"sign-in page: {status}")
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode()}
        ).encode()
        status, _, _ = self.request(
            "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded",
                                               "Referer": self.base + "/accounts/login/"}
        )  # fmt: skip
        if status != 302:
            raise RuntimeError(f"sign-in as {username} refused: {status}")

    def api_login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        status, body, _ = self.request(
            "POST", "/api/v1/auth/token/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 200:
            raise RuntimeError(f"token for {username} refused: {status}")
        self.token = json.loads(body)["token"]

    def upload(self, path: str, fields: dict[str, str], name: str, content: bytes) -> tuple[int, Any]:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        status, body, _ = self.request(
            "POST", path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body[:200]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
