"""The first sheet of an .xlsx, streamed row by row with memory that does not grow with the file.

openpyxl's read-only mode streams the sheet but keeps the whole shared-strings table in memory as
Python strings (about four strings a row in a registry sheet) and builds an element for every cell.
Here both parts are read with expat's callbacks alone: the shared strings go once to a temporary file
(UTF-8, one offset per string in a compact array) and a cell's string is read back when its row is;
rows are yielded as soon as they are complete. Values come out as openpyxl gives them with
`values_only=True, data_only=True`: numbers as int or float, dates (by the cell's number format) as
datetimes, booleans, error codes as text, formulas as their cached value.

Rows and strings in the plain shape Excel, WPS, LibreOffice and openpyxl write (`<c r="A2" s="1"
t="s"><v>7</v></c>`, `<si><t>text</t></si>`) are read with one regular expression each, several times
faster than a Python callback per tag; a row or string in any other shape (rich text, phonetic runs,
unusual attributes) is parsed on its own with the callbacks, and a part holding comments, CDATA,
processing instructions, prefixed elements or another encoding is parsed with the callbacks from its
start. A second expat parser without callbacks reads every byte, so a file that is not well-formed
XML fails where it failed before, after the rows above the damage.
"""

from __future__ import annotations

import os
import queue
import re
import tempfile
import threading
import zipfile
import zlib
from array import array
from collections.abc import Generator, Iterator
from typing import IO, Any, TypeVar
from xml.etree import ElementTree as ET  # noqa: N817
from xml.parsers import expat

from django.utils import translation
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
CHUNK = 1 << 16
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension[^>]*\bref="([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?"')
_COLUMN = re.compile(r"[A-Z]+")

# Errors a damaged file raises part-way through (the rows before it have been yielded).
DAMAGED: tuple[type[Exception], ...] = (expat.ExpatError, zipfile.BadZipFile, EOFError, zlib.error)


def _column(ref: str) -> int:
    """1-based column of a cell reference ("L12" -> 12)."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n


def _part(target: str, base: str = "xl") -> str:
    return target.lstrip("/") if target.startswith("/") else f"{base}/{target}"


class _Unusual(Exception):
    """A part not in the plain shape the regular expressions read: parse it with the callbacks."""


_XMLNS = re.compile(rb"""\sxmlns(?::[\w.-]+)?=(?:"[^"]*"|'[^']*')""")
_PREFIXED = re.compile(rb"<[\w.-]+:")
_DECLARATION = re.compile(rb"""<\?xml[^>]*?\?>""")
_ENCODING = re.compile(rb"""encoding=["']([\w.-]+)["']""")
_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(\w+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if decimal:
        return chr(int(decimal))
    if hexadecimal:
        return chr(int(hexadecimal, 16))
    return _NAMED[name]


def _text(raw: bytes) -> str:
    """Character data as expat gives it: line ends normalised, then the five entities and character
    references replaced (the checking parser has refused any other entity)."""
    value = raw.decode()
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in value:
        value = _ENTITY.sub(_entity, value)
    return value


def _plain_start(head: bytes, root: bytes) -> bool:
    """Whether a part's start (up to its first child) is in the shape the fast path reads: UTF-8, its
    root element `root` unprefixed, no comment, DOCTYPE or processing instruction."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    declaration = _DECLARATION.match(head)
    if declaration:
        encoding = _ENCODING.search(declaration.group())
        if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            return False
        head = head[declaration.end() :]
    return b"<!" not in head and b"<?" not in head and head.lstrip().startswith(b"<" + root)


class _Checked:
    """A part's bytes, chunk by chunk, each read by an expat parser without callbacks first: a chunk
    that is not well-formed raises (after `good`, the bytes before the error, are handed back)."""

    def __init__(self, part: IO[bytes]):
        self.part = part
        self.parser = expat.ParserCreate(namespace_separator=" ")  # as strict as the reading parser
        self.read = 0

    def chunks(self) -> Iterator[tuple[bytes, int, expat.ExpatError | None]]:
        """(chunk, absolute offset of its first byte, the error it ends with or None); b"" at the end."""
        while True:
            chunk = self.part.read(CHUNK)
            at = self.read
            self.read += len(chunk)
            try:
                self.parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                yield chunk[: max(self.parser.ErrorByteIndex - at, 0)], at, exc
                return
            yield chunk, at, None
            if not chunk:
                return


_SI = re.compile(rb"<si\b[^>]*?(?:/>|>(.*?)</si>)", re.S)
_PLAIN_T = re.compile(rb"""<t(?: xml:space="preserve")?>([^<]*)</t>""")


class SharedStrings:
    """The shared-strings table on disk: the text of string `i` is read back on demand."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._offsets = array("q", [0])
        self._fd = self._file.fileno()
        self._window, self._low, self._high = b"", 0, 0
        self._recent: dict[int, str] = {}
        if name is None or name not in archive.namelist():
            return
        try:
            with archive.open(name) as table:
                self._read_plain(table)
        except _Unusual:
            self._file.seek(0)
            self._file.truncate()
            self._offsets = array("q", [0])
            with archive.open(name) as table:
                self._read_with_callbacks(table)
        self._file.flush()

    def _add(self, texts: list[str]) -> None:
        data = [t.encode() for t in texts]
        position = self._offsets[-1]
        for item in data:
            position += len(item)
            self._offsets.append(position)
        self._file.write(b"".join(data))

    def _read_plain(self, table: IO[bytes]) -> None:
        pending, started, ended = b"", False, False
        declarations = b""
        for chunk, _at, error in _Checked(table).chunks():
            if ended:
                if error is not None:
                    raise error
                continue
            data = pending + chunk
            if not started:
                opening = data.find(b"<sst")
                close = data.find(b">", opening) if opening >= 0 else -1
                if close < 0:
                    if error is not None or not chunk:
                        raise error or _Unusual
                    pending = data
                    continue
                if not _plain_start(data[:close], b"sst") or data[close - 1 : close] == b"/":
                    raise _Unusual
                declarations = b"".join(_XMLNS.findall(data[:close]))
                data, started = data[close + 1 :], True
            stop = data.find(b"</sst>")
            region = data if stop < 0 else data[:stop]
            if b"<!" in region or b"<?" in region or _PREFIXED.search(region):
                raise _Unusual
            texts: list[str] = []
            position = 0
            for item in _SI.finditer(region):
                content = item.group(1)
                if content is None:
                    texts.append("")
                    position = item.end()
                    continue
                plain = _PLAIN_T.fullmatch(content)
                texts.append(_text(plain.group(1)) if plain else self._one(item.group(), declarations))
                position = item.end()
            self._add(texts)
            if error is not None:
                raise error
            if stop >= 0:
                ended = True
                continue
            pending = region[position:]
            if b"<si" not in pending:
                pending = pending[-8:]

    @staticmethod
    def _one(element: bytes, declarations: bytes) -> str:
        """One <si> in another shape (rich text, phonetic runs), read with the callbacks."""
        got: list[str] = []
        SharedStrings._callbacks(got.append).Parse(b"<w" + declarations + b">" + element + b"</w>", True)
        if len(got) != 1:
            raise _Unusual
        return got[0]

    @staticmethod
    def _callbacks(emit: Any) -> Any:
        parts: list[str] = []
        depth = {"si": 0, "t": 0, "rPh": 0}

        def start(tag: str, _attrs: Any) -> None:
            local = tag.rpartition(" ")[2]
            if local in depth:
                depth[local] += 1
                if local == "si":
                    parts.clear()

        def end(tag: str) -> None:
            local = tag.rpartition(" ")[2]
            if local in depth:
                depth[local] -= 1
                if local == "si":
                    emit("".join(parts))

        def text(data: str) -> None:
            if depth["t"] and not depth["rPh"]:  # phonetic runs are not part of the value
                parts.append(data)

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = text
        return parser

    def _read_with_callbacks(self, table: IO[bytes]) -> None:
        texts: list[str] = []
        parser = self._callbacks(texts.append)
        while True:
            chunk = table.read(CHUNK)
            parser.Parse(chunk, not chunk)
            self._add(texts)
            texts.clear()
            if not chunk:
                return

    def take(self, indexes: list[int]) -> list[str]:
        """The texts of several strings (a row's), with the lookups of `__getitem__`."""
        offsets, window, low, high, recent = self._offsets, self._window, self._low, self._high, self._recent
        texts = []
        for index in indexes:
            start, stop = offsets[index], offsets[index + 1]
            if low <= start and stop <= high:
                texts.append(window[start - low : stop - low].decode())
            elif index in recent:
                texts.append(recent[index])
            else:
                texts.append(self[index])
                window, low, high = self._window, self._low, self._high
        return texts

    def __getitem__(self, index: int) -> str:
        start, stop = self._offsets[index], self._offsets[index + 1]
        if self._low <= start and stop <= self._high:  # read in order, as the sheet mostly does
            return self._window[start - self._low : stop - self._low].decode()
        recent = self._recent.get(index)
        if recent is not None:  # the few values repeated down a column (plot codes, relations)
            return recent
        self._window = os.pread(self._fd, max(CHUNK, stop - start), start)
        self._low, self._high = start, start + len(self._window)
        value = self._window[: stop - start].decode()
        if len(self._recent) >= 4096:
            self._recent.clear()
        self._recent[index] = value
        return value

    def close(self) -> None:
        self._file.close()


class Sheet:
    """The first worksheet of an .xlsx file object; `rows()` yields (row number, values)."""

    def __init__(self, fileobj: IO[bytes]):
        self.archive = zipfile.ZipFile(fileobj)
        workbook = ET.fromstring(self.archive.read("xl/workbook.xml"))  # noqa: S314 - expat, no entities
        first = workbook.find(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet")
        if first is None:
            raise KeyError("no sheet")
        props = workbook.find(f"{{{MAIN}}}workbookPr")
        date1904 = props is not None and props.get("date1904", "").lower() in ("1", "true")
        self.epoch = MAC_EPOCH if date1904 else WINDOWS_EPOCH
        rels = ET.fromstring(self.archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(_PKG)}
        types = {r.get("Type", "").rsplit("/", 1)[-1]: r.get("Target", "") for r in rels.iter(_PKG)}
        self.path = _part(targets[first.get(_REL)])
        strings = types.get("sharedStrings")
        self.strings = SharedStrings(self.archive, _part(strings) if strings else None)
        self.date_styles: set[int] = set()
        self.timedelta_styles: set[int] = set()
        styles = types.get("styles")
        if styles and _part(styles) in self.archive.namelist():
            sheet = Stylesheet.from_tree(ET.fromstring(self.archive.read(_part(styles))))  # noqa: S314
            self.date_styles, self.timedelta_styles = sheet.date_formats, sheet.timedelta_formats
        self.max_row = self._dimension()

    def _dimension(self) -> int | None:
        """The last row the sheet's <dimension> names (None when it names none)."""
        with self.archive.open(self.path) as part:
            head = part.read(4096)
        found = _DIMENSION.search(head)
        if found is None:
            return None
        last = found.group(4) or found.group(2)
        return int(last) if last else None

    def close(self) -> None:
        self.strings.close()
        self.archive.close()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _value(self, kind: str, raw: str, style: int) -> Any:
        """A cell's value from its type, the text of its <v> (not empty) and its style."""
        if kind == "n":
            value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
            if style in self.date_styles:
                try:
                    return from_excel(value, self.epoch, timedelta=style in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value
        if kind == "s":
            return self.strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        # "str" (a formula's text), "e" (an error code); "inlineStr" with a <v>: that text
        return raw

    def _callbacks(self, done: list[tuple[int, tuple[Any, ...]]], state: dict[str, Any]) -> Any:
        """An expat parser whose callbacks append each complete row to `done`."""
        cells: dict[int, Any] = {}
        convert = self._value
        text: list[str] = state["text"]

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = tag.rpartition(" ")[2]
            if local == "c":
                ref = attrs.get("r")
                state["col"] = _column(ref) if ref else state["col"] + 1
                state["type"] = attrs.get("t", "n")
                style = attrs.get("s")
                state["style"] = int(style) if style else 0
                text.clear()
                state["value"] = None
            elif local == "v":
                state["in"] = "v"
                text.clear()
            elif local == "t" and state["type"] == "inlineStr" and state["in"] != "rPh":
                state["in"] = "t"
            elif local == "rPh":
                state["in"] = "rPh"
            elif local == "row":
                number = attrs.get("r")
                state["row"] = int(number) if number else state["row"] + 1
                state["col"] = 0
                cells.clear()

        def end(tag: str) -> None:
            local = tag.rpartition(" ")[2]
            if local == "v":
                state["in"] = ""
                state["value"] = "".join(text)
            elif local == "t" and state["in"] == "t":
                state["in"] = "is"
            elif local == "rPh":
                state["in"] = ""
            elif local == "c":
                kind, raw = state["type"], state["value"]
                value: Any = None
                if kind == "inlineStr":
                    value = "".join(text) if text else None
                elif raw:
                    value = convert(kind, raw, state["style"])
                if value is not None:
                    cells[state["col"]] = value
                state["in"] = ""
            elif local == "row":
                width = max(cells) if cells else 0
                done.append((state["row"], tuple(cells.get(i) for i in range(1, width + 1))))

        def chardata(data: str) -> None:
            if state["in"] in ("v", "t"):
                text.append(data)

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = chardata
        return parser

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, values) for each row the sheet holds, in order. A damaged part raises one of
        DAMAGED after every complete row before it has been yielded."""
        given = 0
        try:
            for row in self._rows_plain():
                yield row
                given += 1
            return
        except _Unusual:
            pass
        # Not in the plain shape after all: read the part with the callbacks, past the rows given.
        for index, row in enumerate(self._rows_with_callbacks()):
            if index >= given:
                yield row

    def _rows_with_callbacks(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        done: list[tuple[int, tuple[Any, ...]]] = []
        state: dict[str, Any] = {"row": 0, "col": 0, "type": "n", "style": 0, "in": "", "text": []}
        parser = self._callbacks(done, state)
        with self.archive.open(self.path) as part:
            while True:
                try:
                    chunk = part.read(CHUNK)
                    parser.Parse(chunk, not chunk)
                except DAMAGED:
                    yield from done  # the complete rows before the damage, then the error
                    raise
                yield from done
                done.clear()
                if not chunk:
                    return

    def _rows_plain(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """The rows read with regular expressions; raises _Unusual (before giving any row it could
        misread) where the part leaves the plain shape."""
        pending, phase, declarations = b"", "head", b""
        last = 0  # the number of the last row given (a row without r="" is the next one)
        with self.archive.open(self.path) as part:
            for chunk, _at, error in _Checked(part).chunks():
                if phase == "tail":
                    if error is not None:
                        raise error
                    continue
                data = pending + chunk
                if phase == "head":
                    opening = data.find(b"<sheetData")
                    close = data.find(b">", opening) if opening >= 0 else -1
                    if close < 0:
                        if error is not None:
                            raise error
                        if not chunk:
                            raise _Unusual  # no unprefixed <sheetData>: let the callbacks read it
                        pending = data
                        continue
                    if not _plain_start(data[:opening], b"worksheet"):
                        raise _Unusual
                    declarations = b"".join(_XMLNS.findall(data[:close]))
                    if data[close - 1 : close] == b"/":  # <sheetData/>: no rows
                        phase = "tail"
                        if error is not None:
                            raise error
                        continue
                    data, phase = data[close + 1 :], "rows"
                stop = data.find(b"</sheetData>")
                region = data if stop < 0 else data[:stop]
                if b"<!" in region or b"<?" in region or _PREFIXED.search(region):
                    raise _Unusual
                position = 0
                while True:
                    start = region.find(b"<row", position)
                    close = region.find(b">", start) if start >= 0 else -1
                    if close < 0:
                        break
                    if region[start + 4 : start + 5] not in _AFTER_NAME:
                        raise _Unusual  # <rowSomething>: not a row
                    if region[close - 1 : close] == b"/":
                        element_end, content = close + 1, None
                    else:
                        end = region.find(b"</row>", close)
                        if end < 0:
                            break
                        element_end, content = end + 6, region[close + 1 : end]
                    attributes = region[start + 4 : close]
                    number, values = self._row(
                        attributes, content, region[start:element_end], last, declarations
                    )
                    last = number
                    yield number, values
                    position = element_end
                if error is not None:
                    raise error
                if stop >= 0:
                    phase = "tail"
                    continue
                pending = region[position:]
                if b"<row" not in pending:
                    pending = pending[-8:]
                if not chunk:
                    return

    def _row(
        self, attributes: bytes, content: bytes | None, element: bytes, last: int, declarations: bytes
    ) -> tuple[int, tuple[Any, ...]]:
        if b"'" in attributes or b"&" in attributes:
            return self._row_with_callbacks(element, last, declarations)
        numbered = _ROW_NUMBER.search(attributes)
        number = int(numbered.group(1)) if numbered and numbered.group(1) else last + 1
        if not content:
            return number, ()
        found = _CELL.findall(content)
        # Every cell must be one the expression read (a cell in another shape, or rich text's <color>,
        # leaves the count short): then the row goes to the callbacks whole.
        if len(found) != content.count(b"<c"):
            return self._row_with_callbacks(element, last, declarations)
        cells: dict[int, Any] = {}
        columns, dates, escaped = _COLUMNS, self.date_styles, b"&" in content
        shared: list[int] = []  # the cells holding a shared string's index, looked up together
        indexes: list[int] = []
        for letters, style_a, kind, style_b, raw, inline in found:
            if kind == b"s" and raw and not escaped:
                shared.append(columns.get(letters) or _column_of(letters))
                indexes.append(int(raw))
            elif inline:
                if kind != b"inlineStr" or raw:
                    return self._row_with_callbacks(element, last, declarations)
                cells[columns.get(letters) or _column_of(letters)] = _text(inline)
            elif raw:
                style = int(style_a or style_b or 0)
                if (not kind or kind == b"n") and style not in dates and not escaped:
                    value: Any = float(raw) if (b"." in raw or b"E" in raw or b"e" in raw) else int(raw)
                else:
                    value = self._value((kind or b"n").decode(), _text(raw), style)
                if value is not None:
                    cells[columns.get(letters) or _column_of(letters)] = value
        if shared:
            cells.update(zip(shared, self.strings.take(indexes), strict=True))
        width = max(cells) if cells else 0
        return number, tuple(cells.get(i) for i in range(1, width + 1))

    def _row_with_callbacks(
        self, element: bytes, last: int, declarations: bytes
    ) -> tuple[int, tuple[Any, ...]]:
        """One row in another shape, read with the callbacks."""
        done: list[tuple[int, tuple[Any, ...]]] = []
        state: dict[str, Any] = {"row": last, "col": 0, "type": "n", "style": 0, "in": "", "text": []}
        try:
            self._callbacks(done, state).Parse(b"<w" + declarations + b">" + element + b"</w>", True)
        except expat.ExpatError:
            raise _Unusual from None
        if len(done) != 1:
            raise _Unusual
        return done[0]


_AFTER_NAME = (b" ", b"\t", b"\n", b"\r", b">", b"/")

_ROW_NUMBER = re.compile(rb'\sr="([^"]*)"')
_CELL = re.compile(
    rb'\s*<c r="([A-Z]+)[0-9]+"(?: s="([0-9]+)")?(?: t="(\w+)")?(?: s="([0-9]+)")?\s*'
    rb"(?:/>|>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?(?:<v>([^<]*)</v>|<v\s*/>)?"
    rb'(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)'
)
_COLUMNS: dict[bytes, int] = {}


def _column_of(letters: bytes) -> int:
    column = _column(letters.decode())
    if len(_COLUMNS) < 1024:
        _COLUMNS[letters] = column
    return column


T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], chunk: int = 500, depth: int = 4) -> Generator[T, None, None]:
    """The same items, produced by a thread of their own while the caller works.

    An import spends much of its time waiting for the database, and the GIL is free while it waits,
    so the sheet's next rows are parsed meanwhile. At most `depth` chunks wait in the queue (memory
    stays bounded); an error of the producer is raised here after every item produced before it."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()  # messages made in the thread speak the caller's language

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        with translation.override(language):
            work()

    def work() -> None:
        done: list[T] = []
        try:
            for item in items:
                done.append(item)
                if len(done) >= chunk:
                    if not put(done):
                        return
                    done = []
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            if put(done):
                put(exc)
            return
        if put(done):
            put(_END)

    worker = threading.Thread(target=produce, name="sheet-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            got = handoff.get()
            if got is _END:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        worker.join()
