"""Benchmark: import 10,000 and 100,000 residents from one .xlsx, beside COPY of the same rows.

Runs against a throwaway test database (created and dropped here) on the server DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ruian_bench .venv/bin/python bench/registry_import.py
    .venv/bin/python bench/registry_import.py --rows 20000      # one smaller run

Each import runs in a fresh child process (its peak RSS is the import's own, not the workbook
writer's); then the rows it wrote (households, residents and their history rows) are COPYed into
empty tables of the same shape and indexes: the baseline. Goal: the import at >= 1/3 of COPY's rate,
with peak memory that does not grow with the file. Writes bench/results/import.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings_test")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from openpyxl import Workbook  # noqa: E402

PER_HOUSEHOLD = 3
HOUSEHOLDS_PER_PLOT = 150


def build_grid(plots: int):
    from grids import tree
    from grids.models import GridNode, Kind
    from teams.roles import Role
    from teams.services import user_create

    tenant = tree.tenant_create(name="瑞安市", code="330381")
    root = tree.tenant_root(tenant)
    cells = []
    per_cell = 10
    for c in range((plots + per_cell - 1) // per_cell):
        plot_specs = [
            tree.NodeSpec(Kind.PLOT, f"3303811012{c:02d}{p:02d}", f"第{c + 1}村第{p + 1}片")
            for p in range(per_cell)
        ]
        cells.append(tree.NodeSpec(Kind.VILLAGE, f"3303811012{c:02d}", f"第{c + 1}村", children=plot_specs))
    tree.subtree_bulk_create(
        parent=root, specs=[tree.NodeSpec(Kind.TOWN, "330381101", "塘下镇", children=cells)]
    )
    township = GridNode.objects.get(tenant=tenant, code="330381101")
    user = user_create(actor=None, username="bench_staff", home_node=township, role=Role.TOWNSHIP_STAFF)
    codes = list(
        GridNode.objects.filter(tenant=tenant, level=3).order_by("lft").values_list("code", flat=True)
    )
    return user, codes[:plots]


def workbook(rows: int, plot_codes: list[str]) -> bytes:
    from grids.registry.importing import COLUMNS
    from grids.registry.synthetic import mobile, resident_id

    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append([c.header for c in COLUMNS["residents"]])
    tags = ["", "", "", "独居老人", "低保", "外出务工、残疾"]
    for n in range(rows):
        h = n // PER_HOUSEHOLD
        plot = plot_codes[(h // HOUSEHOLDS_PER_PLOT) % len(plot_codes)]
        sheet.append(
            [
                plot,
                f"TX-{h:06d}",
                f"塘下镇某村{h}号",
                "",
                "",
                tags[h % len(tags)],
                f"居民{n}",
                "居民身份证",
                resident_id(n),
                "户主" if n % PER_HOUSEHOLD == 0 else "子女",
                "户籍人口",
                mobile(n),
            ]  # fmt: skip
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return as_excel_writes_it(buffer.getvalue(), f"A1:L{rows + 1}")


_INLINE = re.compile(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t(?: [^>]*)?>(.*?)</t></is></c>')
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def as_excel_writes_it(data: bytes, ref: str) -> bytes:
    """Rewrite openpyxl's output the way Excel and WPS save a sheet: with a <dimension> and a shared
    strings table. (openpyxl writes every string inline and no dimension, which makes any reader
    parse each string cell as rich text and scan the whole sheet to size it: not what users upload.)"""
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        index = strings.setdefault(match.group(2), len(strings))
        return f'<c r="{match.group(1)}" t="s"><v>{index}</v></c>'

    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            text = source.read(item.filename).decode()
            if item.filename == "xl/worksheets/sheet1.xml":
                text = _INLINE.sub(shared, text)
                at = min(
                    i
                    for i in (text.find("<sheetViews"), text.find("<sheetFormatPr"), text.find("<sheetData"))
                    if i >= 0
                )
                text = text[:at] + f'<dimension ref="{ref}"/>' + text[at:]
            elif item.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
                text = text.replace("</Types>", override + "</Types>")
            elif item.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Id="rIdSharedStrings" Type="{_SST_REL}" Target="sharedStrings.xml"/>'
                text = text.replace("</Relationships>", rel + "</Relationships>")
            out.writestr(item, text)
        body = "".join(f"<si><t>{s}</t></si>" for s in strings)
        out.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">'
            f"{body}</sst>",
        )
    return target.getvalue()


def run(user, data: bytes | Path):
    """The upload (`services.import_start`: shape check, storage, the job queued), then the import as a
    Celery worker runs it: in autocommit, a transaction per batch. (Run eagerly by the outbox relay it
    would run inside the relay's transaction: one transaction for the whole file, batches as
    savepoints, and no second connection could see the job's rows; measured that way until
    2026-12-07.)"""
    from grids.registry import importing, services
    from grids.registry.models import ImportJob

    queued: list[int] = []
    real = importing.run_import
    importing.run_import = lambda job_id: queued.append(job_id)  # type: ignore[assignment,misc,return-value]
    started = time.perf_counter()
    try:
        if isinstance(data, Path):  # on disk, as Django keeps an upload larger than 2.5 MB
            upload = UploadedFile(data.open("rb"), name="bench.xlsx", size=data.stat().st_size)
        else:
            upload = SimpleUploadedFile("bench.xlsx", data)
        job = services.import_start(actor=user, kind="residents", upload=upload)  # queued on commit
    finally:
        importing.run_import = real
    assert queued == [job.pk], queued  # noqa: S101 - the eager task handed the job over
    real(job.pk)
    elapsed = time.perf_counter() - started
    return ImportJob.objects.get(pk=job.pk), elapsed


def cpu_s() -> float:
    """CPU time of this process so far (all its threads: the import's reading thread included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def db_cpu_s() -> float | None:
    """CPU time so far of the database server process serving this thread's connection, when it
    runs on this machine and /proc shows it (None otherwise): the import's work inside PostgreSQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spent(after: float | None, before: float | None) -> float | None:
    return round(after - before, 2) if after is not None and before is not None else None


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux from VmHWM, which starts afresh at exec
    (getrusage's maxrss would carry over the peak of the parent that forked us)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, username: str) -> None:
    """Run one import in this fresh process and print its figures as JSON (peak memory is this
    process's own: the workbook was written by the parent)."""
    from grids.registry import importing
    from teams.models import User

    # The import writes its batches on a second connection (decision 1104): that connection's server
    # process is measured as the writer thread closes it (the process served only that connection).
    writers: list[float | None] = []
    close = importing._close_connection

    def measured_close() -> None:
        writers.append(db_cpu_s())
        close()

    importing._close_connection = measured_close
    user = User.objects.get(username=username)
    before, cpu_before, db_before = peak_rss_mb(), cpu_s(), db_cpu_s()
    job, seconds = run(user, Path(path))
    cpu, db = cpu_s() - cpu_before, _spent(db_cpu_s(), db_before)
    if db is not None and writers:
        db = None if None in writers else round(db + sum(w for w in writers if w is not None), 2)
    print(json.dumps({"seconds": seconds, "added": job.added, "refused": job.refused, "cpu_s": cpu, "db_cpu_s": db,
                      "rss_before_mb": before, "rss_peak_mb": peak_rss_mb()}))  # fmt: skip


WRITTEN = ("grids_household", "grids_historicalhousehold", "grids_resident", "grids_historicalresident")


def copy_baseline() -> tuple[float, int, float | None]:
    """COPY of the same rows the import wrote (households, residents and their history rows) into
    empty tables with the same columns and indexes: seconds, rows, the database server's CPU seconds.
    (The tables copied into have no foreign keys, so the server checks none: the import's tables do.)"""
    total, rows, db_total = 0.0, 0, 0.0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in WRITTEN:
            buffer = io.BytesIO()
            with raw.copy(f"COPY {table} TO STDOUT") as out:
                for chunk in out:
                    buffer.write(chunk)
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
            rows += cursor.fetchone()[0]
            cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
            started, db_before = time.perf_counter(), db_cpu_s()
            with raw.copy(f"COPY bench_copy_{table} FROM STDIN") as into:
                into.write(buffer.getvalue())
            total += time.perf_counter() - started
            spent = _spent(db_cpu_s(), db_before)
            db_total = db_total + spent if db_total is not None and spent is not None else None
            cursor.execute(f"DROP TABLE bench_copy_{table}")
    return total, rows, db_total


def copy_with_foreign_keys() -> float:
    """The same COPY into tables that also carry the import's tables' foreign keys (checked at
    commit, as Django declares them): seconds. What a bulk load cannot avoid beside plain COPY."""
    total = 0.0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table in WRITTEN:
            buffer = io.BytesIO()
            with raw.copy(f"COPY {table} TO STDOUT") as out:
                for chunk in out:
                    buffer.write(chunk)
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            keys = [definition for (definition,) in cursor.fetchall()]
            cursor.execute(f"CREATE TABLE bench_fk_{table} (LIKE {table} INCLUDING ALL)")
            for definition in keys:
                cursor.execute(f"ALTER TABLE bench_fk_{table} ADD {definition}")
            started = time.perf_counter()
            # Autocommit: the deferred checks run as the COPY's own transaction commits.
            with raw.copy(f"COPY bench_fk_{table} FROM STDIN") as into:
                into.write(buffer.getvalue())
            total += time.perf_counter() - started
            cursor.execute(f"DROP TABLE bench_fk_{table}")
    return total


def measure(rows: int) -> dict[str, float | int]:
    """One city, `rows` residents in a workbook, imported in a child process, then COPY of the same."""
    households = (rows + PER_HOUSEHOLD - 1) // PER_HOUSEHOLD
    plots = max(1, (households + HOUSEHOLDS_PER_PLOT - 1) // HOUSEHOLDS_PER_PLOT)
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        user, codes = build_grid(plots)
        data = workbook(rows, codes)
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as file:
            file.write(data)
            file.flush()
            env = {**os.environ, "DATABASE_URL": _url_with_name(test_name)}
            done = subprocess.run(  # noqa: S603 - this script, run again
                [sys.executable, __file__, "--child", file.name, "--user", user.username],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        load = os.getloadavg()[0]  # the last minute's, as the import ends
        copy_seconds, copied, copy_db = copy_baseline()
        copy_fk_seconds = copy_with_foreign_keys()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    import_rate = rows / figures["seconds"]
    copy_rate = rows / copy_seconds  # the same residents, with their households and history rows
    return {
        "rows": rows, "workbook_mb": round(len(data) / 2**20, 1), "import_s": round(figures["seconds"], 1),
        "import_rows_per_s": round(import_rate), "added": figures["added"], "refused": figures["refused"],
        "peak_rss_mb": round(figures["rss_peak_mb"]), "rss_before_import_mb": round(figures["rss_before_mb"]),
        "import_cpu_s": round(figures["cpu_s"], 1), "import_db_cpu_s": figures["db_cpu_s"],
        "copy_s": round(copy_seconds, 2), "copy_db_cpu_s": round(copy_db, 2) if copy_db is not None else None, "copy_rows_written": copied,
        "copy_rows_per_s": round(copy_rate), "import_share_of_copy": round(import_rate / copy_rate, 3),
        "copy_with_foreign_keys_s": round(copy_fk_seconds, 2),
        "load_average_1min": round(load, 2), "load_average_1min_after_copy": round(os.getloadavg()[0], 2),
    }  # fmt: skip


def _url_with_name(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.user)
        return
    results = []
    for rows in args.rows:
        figures = measure(rows)
        results.append(figures)
        print(
            f"{rows:>8,} rows: import {figures['import_s']} s ({figures['import_rows_per_s']:,} rows/s, "
            f"CPU {figures['import_cpu_s']} s here + {figures['import_db_cpu_s']} s in the database, "
            f"peak RSS {figures['peak_rss_mb']} MB, {figures['rss_before_import_mb']} MB before) — "
            f"COPY of the same rows {figures['copy_s']} s ({figures['copy_rows_per_s']:,} rows/s, "
            f"{figures['copy_db_cpu_s']} s CPU in the database): "
            f"import at {figures['import_share_of_copy']:.0%} of COPY (goal >= 33%); "
            f"COPY into tables with the import's foreign keys {figures['copy_with_foreign_keys_s']} s; "
            f"load average {figures['load_average_1min']}",
            flush=True,
        )
    out = Path(__file__).resolve().parent / "results" / "import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "results": results}, indent=2) + "\n")  # fmt: skip
    print(f"written to {out.relative_to(out.parent.parent.parent)}")


if __name__ == "__main__":
    main()
