"""The streamed sheet reader gives the values openpyxl gives, and its read-ahead keeps errors in place."""

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from grids.registry.sheet import DAMAGED, Sheet, read_ahead


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


# --- the shapes other writers give the same parts -----------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def _parts(sheet_data: str, strings: str, *, root: str = "") -> bytes:
    """A workbook whose first sheet holds `sheet_data` (the rows) and whose shared strings are
    `strings` (the <si> elements), written as given."""
    root = root or f'<worksheet xmlns="{_MAIN}" xmlns:r="{_R}" xmlns:x14ac="{_X14AC}">'
    end = "</" + root[1:].split(" ", 1)[0].split(">", 1)[0] + ">"
    name = root[1:].split(" ", 1)[0].split(">", 1)[0]
    prefix = name.split(":")[0] + ":" if ":" in name else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_R}"><sheets>'
            '<sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        out.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        out.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            f'{root}<{prefix}dimension ref="A1:D9"/><{prefix}sheetData>{sheet_data}</{prefix}sheetData>'
            f"<{prefix}pageMargins/>{end}",
        )
        out.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="9">{strings}</sst>',
        )
    return buffer.getvalue()


_STRINGS = (
    "<si><t>片格编码</t></si>"  # 0
    '<si><t xml:space="preserve"> 前后有空格 </t></si>'  # 1
    '<si><r><rPr><b/><color rgb="FFFF0000"/></rPr><t>粗</t></r><r><t>体</t></r></si>'  # 2: rich text
    '<si><t>林</t><rPh sb="0" eb="1"><t>lin</t></rPh></si>'  # 3: a phonetic run, not part of the value
    "<si><t>A &amp; B &lt;1&gt; &#20013;&#x6587;</t></si>"  # 4: entities
    "<si><t>第一行\r\n第二行</t></si>"  # 5: a line break as Windows writes it
    "<si/>"  # 6: empty
)
_EXPECTED = [
    (1, ("片格编码", " 前后有空格 ", "粗体", "林")),
    (2, ("A & B <1> 中文", "第一行\n第二行", "", 42)),
    (3, (None, 2.5, 3, "text of a formula")),
    (4, ()),
    (5, (True, "#N/A", "内联", "内联富文本")),
    (6, ()),
    (7, (None, None, "no r on this row")),
    (8, ("single quotes", 7)),
]
_ROWS = (
    '<row r="1" spans="1:4" x14ac:dyDescent="0.25">'
    '<c r="A1" s="1" t="s"><v>0</v></c><c r="B1" t="s" s="2"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" t="s"><v>6</v></c>'
    '<c r="D2" t="n"><v>42</v></c><c r="E2" s="3"/></row>'
    '<row r="3"><c r="B3"><v>2.5</v></c><c r="C3"><f>1+2</f><v>3</v></c>'
    '<c r="D3" t="str"><f t="shared" ref="D3:D4" si="0">"text of a formula"</f><v>text of a formula</v></c>'
    '</row>\n  <row r="4"></row>'
    '<row r="5"><c r="A5" t="b"><v>1</v></c><c r="B5" t="e"><v>#N/A</v></c>'
    '<c r="C5" t="inlineStr"><is><t>内联</t></is></c>'
    '<c r="D5" t="inlineStr"><is><r><t>内联</t></r><r><rPr><i/></rPr><t>富文本</t></r></is></c></row>'
    '<row r="6"/>'
    '<row spans="1:3"><c r="C7" t="inlineStr"><is><t>no r on this row</t></is></c></row>'
    "<row r='8'><c r='A8' t='inlineStr'><is><t>single quotes</t></is></c><c r='B8'><v>7</v></c></row>"
)


@pytest.mark.parametrize(
    ("rows", "strings", "root"),
    [
        pytest.param(_ROWS, _STRINGS, "", id="as Excel writes them"),
        pytest.param(
            _ROWS.replace('<row r="5">', '<!-- a comment --><row r="5">'), _STRINGS, "", id="comment"
        ),
        pytest.param(_ROWS, _STRINGS.replace("<si/>", "<si><t><![CDATA[]]></t></si>"), "", id="CDATA"),
        pytest.param(
            _ROWS.replace("<row", "<x:row")
            .replace("</row", "</x:row")
            .replace("<c ", "<x:c ")
            .replace("</c>", "</x:c>")
            .replace("<v>", "<x:v>")
            .replace("</v>", "</x:v>")
            .replace("<f>", "<x:f>")
            .replace("</f>", "</x:f>")
            .replace("<f ", "<x:f ")
            .replace("<is>", "<x:is>")
            .replace("</is>", "</x:is>")
            .replace("<t>", "<x:t>")
            .replace("</t>", "</x:t>")
            .replace("<r>", "<x:r>")
            .replace("</r>", "</x:r>")
            .replace("<rPr>", "<x:rPr>")
            .replace("</rPr>", "</x:rPr>")
            .replace("<i/>", "<x:i/>"),
            _STRINGS,
            f'<x:worksheet xmlns:x="{_MAIN}" xmlns:x14ac="{_X14AC}">',
            id="prefixed elements",
        ),  # fmt: skip
    ],
)
def test_rows_in_every_writers_shape_read_as_the_callbacks_read_them(rows, strings, root):
    with Sheet(io.BytesIO(_parts(rows, strings, root=root))) as sheet:
        assert list(sheet.rows()) == _EXPECTED
        assert list(sheet._rows_with_callbacks()) == _EXPECTED


def test_a_sheet_damaged_part_way_gives_the_rows_before_the_damage_then_fails():
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(1, 3001))
    data = _parts(rows.replace('<row r="2500">', '<row r="2500"><<broken'), _STRINGS)
    got = []
    with Sheet(io.BytesIO(data)) as sheet, pytest.raises(DAMAGED):
        for row in sheet.rows():
            got.append(row)
    assert got == [(n, ("片格编码",)) for n in range(1, 2500)]
