"""The first sheet of an .xlsx, streamed row by row with memory that does not grow with the file.

openpyxl's read-only mode streams the sheet but keeps the whole shared-strings table in memory as
Python strings (about four strings a row in a registry sheet) and builds an element for every cell.
Here both parts are read with expat's callbacks alone: the shared strings go once to a temporary file
(UTF-8, one offset per string in a compact array) and a cell's string is read back when its row is;
rows are yielded as soon as they are complete. Values come out as openpyxl gives them with
`values_only=True, data_only=True`: numbers as int or float, dates (by the cell's number format) as
datetimes, booleans, error codes as text, formulas as their cached value.
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


class SharedStrings:
    """The shared-strings table on disk: the text of string `i` is read back on demand."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._offsets = array("q", [0])
        if name is None or name not in archive.namelist():
            return
        parts: list[str] = []
        depth = {"si": 0, "t": 0, "rPh": 0}
        out = self._file
        offsets = self._offsets
        position = 0

        def start(tag: str, _attrs: Any) -> None:
            local = tag.rpartition(" ")[2]
            if local in depth:
                depth[local] += 1
                if local == "si":
                    parts.clear()

        def end(tag: str) -> None:
            nonlocal position
            local = tag.rpartition(" ")[2]
            if local in depth:
                depth[local] -= 1
                if local == "si":
                    data = "".join(parts).encode()
                    out.write(data)
                    position += len(data)
                    offsets.append(position)

        def text(data: str) -> None:
            if depth["t"] and not depth["rPh"]:  # phonetic runs are not part of the value
                parts.append(data)

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = text
        with archive.open(name) as table:
            parser.ParseFile(table)
        out.flush()
        self._fd = out.fileno()

    def __getitem__(self, index: int) -> str:
        start, stop = self._offsets[index], self._offsets[index + 1]
        return os.pread(self._fd, stop - start, start).decode()

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

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, values) for each row the sheet holds, in order. A damaged part raises one of
        DAMAGED after every complete row before it has been yielded."""
        done: list[tuple[int, tuple[Any, ...]]] = []
        cells: dict[int, Any] = {}
        state: dict[str, Any] = {"row": 0, "col": 0, "type": "n", "style": 0, "in": "", "text": []}
        strings, dates, timedeltas, epoch = self.strings, self.date_styles, self.timedelta_styles, self.epoch
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
                    if kind == "n":
                        value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                        if state["style"] in dates:
                            try:
                                value = from_excel(value, epoch, timedelta=state["style"] in timedeltas)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif kind == "s":
                        value = strings[int(raw)]
                    elif kind == "b":
                        value = bool(int(raw))
                    elif kind == "d":
                        value = from_ISO8601(raw)
                    else:  # "str" (a formula's text), "e" (an error code)
                        value = raw
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
