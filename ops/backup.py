"""`make backup` / `make restore FILE=...`: PostgreSQL backups with pg_dump and pg_restore.

    make backup                       # var/backups/<UTC timestamp>.dump of DATABASE_URL (custom format)
    make restore FILE=var/backups/20260101T020000Z.dump
                                      # into RESTORE_DATABASE_URL, else DATABASE_URL (created if missing;
                                      # existing objects are dropped first: --clean --if-exists)

BACKUP_DIR chooses the folder (default var/backups), BACKUP_KEEP how many dumps to keep there (default
14; older ones are deleted after a successful dump). Connection details come from the URL; a password
in it is handed to the tools through PGPASSWORD, never on the command line. See README, "Backups".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent


class BackupError(Exception):
    pass


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)"
        )
    return found


def connection(url: str) -> tuple[list[str], dict[str, str], str]:
    """libpq options, environment and database name for a postgres:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BackupError(f"backups are for PostgreSQL; the database URL names {parts.scheme or 'nothing'}")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise BackupError("the database URL names no database")
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", unquote(parts.username)]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return args, env, name


def backup(url: str, folder: Path, keep: int) -> Path:
    args, env, name = connection(url)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}.dump"
    partial = target.with_suffix(".partial")
    cmd = [_tool("pg_dump"), *args, "-Fc", "--no-owner", "--no-privileges", "-f", str(partial), name]
    subprocess.run(cmd, env=env, check=True)  # noqa: S603
    partial.rename(target)  # only a finished dump carries the .dump name
    for old in sorted(folder.glob("*.dump"))[:-keep] if keep > 0 else []:
        old.unlink()
    return target


def _ensure_database(args: list[str], env: dict[str, str], name: str) -> None:
    """Create the target database when it does not exist yet (a fresh server, a drill)."""
    probe = subprocess.run(  # noqa: S603
        [_tool("psql"), *args, "-d", "postgres", "-At", "-v", f"n={name}"],
        env=env,
        input="SELECT 1 FROM pg_database WHERE datname = :'n';\n",
        capture_output=True,
        text=True,
        check=True,
    )
    if probe.stdout.strip() != "1":
        subprocess.run([_tool("createdb"), *args, name], env=env, check=True)  # noqa: S603


def restore(url: str, dump: Path) -> None:
    if not dump.is_file():
        raise BackupError(f"no such dump: {dump}")
    args, env, name = connection(url)
    _ensure_database(args, env, name)
    cmd = [_tool("pg_restore"), *args, "-d", name, "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    cmd += ["--exit-on-error", "--single-transaction", str(dump)]
    subprocess.run(cmd, env=env, check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup", help="dump DATABASE_URL into BACKUP_DIR")
    r = sub.add_parser("restore", help="restore a dump into RESTORE_DATABASE_URL or DATABASE_URL")
    r.add_argument("file", type=Path)
    opts = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    try:
        if opts.command == "backup":
            if not url:
                raise BackupError("set DATABASE_URL to the PostgreSQL database to back up")
            folder = Path(os.environ.get("BACKUP_DIR", ROOT / "var" / "backups"))
            keep = int(os.environ.get("BACKUP_KEEP", "14"))
            print(backup(url, folder, keep))
        else:
            target = os.environ.get("RESTORE_DATABASE_URL") or url
            if not target:
                raise BackupError(
                    "set RESTORE_DATABASE_URL (or DATABASE_URL) to the database to restore into"
                )
            restore(target, opts.file)
            print(f"restored {opts.file} into {connection(target)[2]}")
    except (BackupError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
