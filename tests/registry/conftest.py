"""Helpers for registry tests: synthetic workbooks and a few households and residents in the cast's plots."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from grids.registry import services
from grids.registry.importing import COLUMNS
from grids.registry.synthetic import mobile, resident_id


def xlsx(
    rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None, kind: str = "residents"
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header) if header is not None else [c.header for c in COLUMNS[kind]])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "登记表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def resident_row(plot_code: str, household: str, n: int, **overrides: Any) -> list[Any]:
    row = {
        "plot": plot_code,
        "household": household,
        "address": f"九三村{household}号",
        "building": "",
        "room": "",
        "tags": "",
        "name": f"居民{n}",
        "id_type": "居民身份证",
        "id_number": resident_id(n),
        "relation": "户主" if n % 3 == 0 else "子女",
        "population_type": "户籍人口",
        "phone": mobile(n),
    }
    row.update(overrides)
    return [row[c.key] for c in COLUMNS["residents"]]


@pytest.fixture
def people(cast):
    """Two households in plot_a1 (Shangwang/Jiusan) and one in plot_b1 (Tangxia), with residents."""
    actor = cast.city_admin
    h1 = services.household_create(
        actor=actor, plot=cast.plot_a1, number="JS-0001", address="九三村1号", tags=1
    )
    h2 = services.household_create(actor=actor, plot=cast.plot_a1, number="JS-0002", address="九三村2号")
    h3 = services.household_create(actor=actor, plot=cast.plot_b1, number="LB-0001", address="林北村1号")
    r1 = services.resident_create(
        actor=actor,
        household=h1,
        name="林阿婆",
        id_number=resident_id(1001),
        phone=mobile(1001),
        relation="head",
    )
    r2 = services.resident_create(actor=actor, household=h2, name="陈大明", id_number=resident_id(1002))
    r3 = services.resident_create(
        actor=actor, household=h3, name="张小芳", id_number=resident_id(1003), phone=mobile(1003)
    )
    return type("People", (), {"h1": h1, "h2": h2, "h3": h3, "r1": r1, "r2": r2, "r3": r3})
