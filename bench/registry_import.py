"""Benchmark: import 100,000 residents from one .xlsx, then upload the same file again.

Runs against a throwaway test database (created and dropped here) on the database DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ruian_bench .venv/bin/python bench/registry_import.py
    .venv/bin/python bench/registry_import.py --rows 20000      # a smaller run

The issue's budget: 100,000 residents in under 2 minutes on PostgreSQL. Prints the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings_test")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
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


def run(user, data: bytes):
    from grids.registry import services
    from grids.registry.models import ImportJob

    started = time.perf_counter()
    upload = SimpleUploadedFile("bench.xlsx", data)
    job = services.import_start(actor=user, kind="residents", upload=upload)  # eager task, run on commit
    elapsed = time.perf_counter() - started
    return ImportJob.objects.get(pk=job.pk), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    households = (args.rows + PER_HOUSEHOLD - 1) // PER_HOUSEHOLD
    plots = max(1, (households + HOUSEHOLDS_PER_PLOT - 1) // HOUSEHOLDS_PER_PLOT)

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from grids.registry.models import Household, Resident

        user, codes = build_grid(plots)
        t0 = time.perf_counter()
        data = workbook(args.rows, codes)
        print(
            f"workbook: {args.rows:,} rows, {len(data) / 2**20:.1f} MB, written in {time.perf_counter() - t0:.1f} s"
        )
        job, first = run(user, data)
        print(
            f"import:   {first:.1f} s on {connection.vendor} — added {job.added:,}, updated {job.updated:,}, "
            f"refused {job.refused:,}; {Household.objects.count():,} households, {Resident.objects.count():,} residents "
            f"({args.rows / first:,.0f} rows/s)"
        )
        job, second = run(user, data)
        print(
            f"re-upload: {second:.1f} s — added {job.added:,}, updated {job.updated:,}, unchanged {job.unchanged:,}"
        )
        budget = 120 * args.rows / 100_000
        print(f"budget:   {budget:.0f} s for {args.rows:,} rows — {'OK' if first < budget else 'OVER'}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
