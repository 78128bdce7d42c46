"""The streamed sheet reader gives the values openpyxl gives, and its read-ahead keeps errors in place."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from grids.registry.sheet import Sheet, read_ahead


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["片格编码", "户号", 1, 2.5, None, "中文"])
    sheet.append([])
    sheet.append([dt.datetime(2020, 1, 2), True, "=1+1", 10**17, 3.0, "  spaced  "])
    sheet["H5"] = "far right"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_rows_hold_the_values_openpyxl_reads():
    data = _workbook()
    expected = [
        (number, tuple(values))
        for number, values in enumerate(
            load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            .worksheets[0]
            .iter_rows(values_only=True),
            start=1,
        )
    ]
    with Sheet(io.BytesIO(data)) as sheet:
        got = list(sheet.rows())
        assert sheet.max_row == 5
    # Same row numbers and values; openpyxl also pads rows to the sheet's width and yields empty rows.
    assert [(n, v) for n, v in expected if any(x is not None for x in v)] == [
        (n, v + (None,) * (len(expected[0][1]) - len(v))) for n, v in got
    ]


def test_read_ahead_raises_a_failure_after_the_items_before_it():
    def items():
        yield from range(1200)
        raise ValueError("damaged")

    seen = []
    with pytest.raises(ValueError, match="damaged"):
        for item in read_ahead(items(), chunk=500):
            seen.append(item)
    assert seen == list(range(1200))


def test_read_ahead_stops_its_thread_when_the_reader_stops_early():
    rows = read_ahead(iter(range(100_000)), chunk=10, depth=2)
    assert next(rows) == 0
    rows.close()  # returns: the producer gave up its blocked put


def test_read_ahead_makes_its_items_in_the_callers_language():
    from django.utils import translation

    def languages():
        yield translation.get_language()

    with translation.override("en"):
        assert list(read_ahead(languages())) == ["en"]
    with translation.override("zh-hans"):
        assert list(read_ahead(languages())) == ["zh-hans"]
