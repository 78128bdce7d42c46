"""Excel in and out: the import templates (Chinese headers), the streamed import, the refused-rows file
and list exports.

An import streams the first sheet (`sheet.py`: plain rows read with a regular expression, any other
shape with expat callbacks, shared strings spilled to a temporary file, so memory stays flat as the
file grows), in batches; the cells are read, and ID and phone numbers parsed and hashed, in a thread of
their own while the batches are written. Each batch is checked row
by row (a refused row gets its reason), then written in one transaction with bulk inserts and updates
(and their history rows), so a failure never leaves half a batch. On PostgreSQL a resident import
writes each batch on a second connection while the next one is checked (`_Writer`, decision 1104). Rows match on natural keys (household
number, ID number's keyed hash, building code and room, credit code), so uploading the same file again
adds and changes nothing. Numbers never go to logs; the uploaded file is deleted when the import ends.
"""

from __future__ import annotations

import copy
import io
import itertools
import logging
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET  # noqa: N817
from xml.parsers.expat import ExpatError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from simple_history.utils import bulk_update_with_history

from grids import scoping
from grids.models import GridNode, Level
from ruian_grid import db
from ruian_grid.inputs import CONTROL_CHARACTERS, CONTROL_MESSAGE, printable

from . import bulk, services
from .models import (
    Building,
    BuildingKind,
    Dwelling,
    DwellingUse,
    Establishment,
    EstablishmentKind,
    Household,
    IdType,
    ImportJob,
    ImportKind,
    ImportStatus,
    PopulationType,
    Relation,
    Resident,
    Status,
    Tag,
)
from .sheet import DAMAGED, Sheet, read_ahead
from .synthetic import credit_code, resident_id
from .validators import normalize_uscc

if TYPE_CHECKING:
    from teams.models import User

logger = logging.getLogger(__name__)
REASON_HEADER = "拒绝原因"
XLSX_MAGIC = b"PK\x03\x04"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    text: bool = False  # stored as text in the template (long numbers)
    width: int = 14


COLUMNS: dict[str, list[Column]] = {
    ImportKind.RESIDENTS: [
        Column("plot", "片格编码", True, True, 18),
        Column("household", "户号", True, True, 16),
        Column("address", "住址", width=30),
        Column("building", "楼栋编码", text=True),
        Column("room", "房号", text=True, width=10),
        Column("tags", "户标签", width=20),
        Column("name", "姓名", True, width=10),
        Column("id_type", "证件类型", width=12),
        Column("id_number", "证件号码", True, True, 22),
        Column("relation", "与户主关系", width=12),
        Column("population_type", "人口类型", width=12),
        Column("phone", "手机号码", text=True, width=14),
    ],
    ImportKind.BUILDINGS: [
        Column("plot", "片格编码", True, True, 18),
        Column("building", "楼栋编码", True, True, 16),
        Column("name", "楼栋名称或地址", True, width=30),
        Column("kind", "楼栋类别", width=12),
        Column("floors", "层数", width=8),
        Column("room", "房号", text=True, width=10),
        Column("use", "房屋用途", width=12),
    ],
    ImportKind.ESTABLISHMENTS: [
        Column("plot", "片格编码", True, True, 18),
        Column("credit_code", "统一社会信用代码", True, True, 22),
        Column("name", "单位名称", True, width=30),
        Column("kind", "单位类别", width=12),
        Column("address", "地址", width=30),
        Column("building", "楼栋编码", text=True),
        Column("staff", "从业人数", width=10),
        Column("contact", "联系人", width=10),
        Column("contact_phone", "联系电话", text=True, width=14),
    ],
}

# Accepted spellings of coded values: the Chinese the template shows, the stored code, and English.
CHOICES: dict[str, dict[str, str]] = {
    "id_type": {
        "居民身份证": IdType.RESIDENT_ID,
        "身份证": IdType.RESIDENT_ID,
        "护照": IdType.OTHER,
        "其他证件": IdType.OTHER,
    },
    "relation": {
        "户主": Relation.HEAD,
        "本人": Relation.HEAD,
        "配偶": Relation.SPOUSE,
        "子女": Relation.CHILD,
        "子": Relation.CHILD,
        "女": Relation.CHILD,
        "父母": Relation.PARENT,
        "父亲": Relation.PARENT,
        "母亲": Relation.PARENT,
        "孙子女": Relation.GRANDCHILD,
        "其他": Relation.OTHER,
    },
    "population_type": {
        "户籍人口": PopulationType.REGISTERED,
        "户籍": PopulationType.REGISTERED,
        "流动人口": PopulationType.MIGRANT,
        "流动": PopulationType.MIGRANT,
        "境外人员": PopulationType.OVERSEAS,
        "境外": PopulationType.OVERSEAS,
    },
    "tags": {
        "独居老人": Tag.ELDERLY_ALONE,
        "残疾": Tag.DISABILITY,
        "残疾人": Tag.DISABILITY,
        "低保": Tag.LOW_INCOME,
        "低收入": Tag.LOW_INCOME,
        "外出务工": Tag.MIGRANT_WORKER,
        "务工人员": Tag.MIGRANT_WORKER,
        "留守儿童": Tag.LEFT_BEHIND_CHILD,
        "退役军人": Tag.VETERAN,
    },
    "kind_building": {
        "住宅": BuildingKind.RESIDENTIAL,
        "商业": BuildingKind.COMMERCIAL,
        "商住": BuildingKind.MIXED,
        "厂房": BuildingKind.FACTORY,
        "其他": BuildingKind.OTHER,
    },
    "use": {
        "自住": DwellingUse.OWNER,
        "出租": DwellingUse.RENTED,
        "空置": DwellingUse.VACANT,
        "经营": DwellingUse.BUSINESS,
        "其他": DwellingUse.OTHER,
    },
    "kind_establishment": {
        "企业": EstablishmentKind.ENTERPRISE,
        "个体工商户": EstablishmentKind.SHOP,
        "商铺": EstablishmentKind.SHOP,
        "机关事业单位": EstablishmentKind.INSTITUTION,
        "社会组织": EstablishmentKind.SOCIAL,
        "其他": EstablishmentKind.OTHER,
    },
}
DEFAULTS = {
    "id_type": IdType.RESIDENT_ID,
    "relation": Relation.OTHER,
    "population_type": PopulationType.REGISTERED,
    "kind_building": BuildingKind.RESIDENTIAL,
    "use": DwellingUse.OWNER,
    "kind_establishment": EstablishmentKind.ENTERPRISE,
}
_CHOICE_CLASSES = {
    "id_type": IdType,
    "relation": Relation,
    "population_type": PopulationType,
    "kind_building": BuildingKind,
    "use": DwellingUse,
    "kind_establishment": EstablishmentKind,
}


class RowError(Exception):
    """A refused row; the message is the reason written beside it (never the row's numbers)."""


def choice(kind: str, raw: str) -> str:
    text = raw.strip()
    if not text:
        return DEFAULTS[kind]
    if text in CHOICES[kind]:
        return CHOICES[kind][text]
    for member in _CHOICE_CLASSES[kind]:
        if text.lower() in (member.value, str(member.label).lower()):
            return member.value
    raise RowError(
        _("Unknown value “%(value)s”; use one of: %(allowed)s.")
        % {"value": text[:20], "allowed": "、".join(CHOICES[kind])}
    )


def parse_tags(raw: str) -> int:
    mask = 0
    for part in raw.replace("，", ",").replace("、", ",").replace(";", ",").replace("；", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part not in CHOICES["tags"]:
            raise RowError(
                _("Unknown tag “%(value)s”; use: %(allowed)s.")
                % {"value": part[:20], "allowed": "、".join(CHOICES["tags"])}
            )
        mask |= int(CHOICES["tags"][part])
    return mask


def cell_text(value: Any) -> str:
    """A cell as text: whole-number floats lose their ".0"; None is empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def message_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- the workbook's shape -------------------------------------------------------------------------


class BadWorkbook(ValidationError):
    pass


HEADER_SCAN = 10  # township sheets often carry a title, a date or a unit above the headers


def _header_map(header: Sequence[Any], kind: str) -> dict[str, int]:
    names = [cell_text(h).rstrip("*＊").strip() for h in header]
    found = {}
    for col in COLUMNS[kind]:
        if col.header in names:
            found[col.key] = names.index(col.header)
    missing = [c.header for c in COLUMNS[kind] if c.required and c.key not in found]
    if missing:
        raise BadWorkbook(
            _(
                "None of the first %(rows)s rows holds the template's headers; missing: %(missing)s. Download the template and copy your rows into it."
            )
            % {"rows": HEADER_SCAN, "missing": "、".join(missing)}
        )
    return found


def find_header(rows: Iterable[Sequence[Any]], kind: str) -> tuple[int, dict[str, int]]:
    """The position (among `rows`, blank rows skipped) of the header row within the first
    HEADER_SCAN non-blank rows, and its columns; title rows above it are passed over."""
    first_error: BadWorkbook | None = None
    seen = 0
    for index, row in enumerate(rows):
        if _blank(row):
            continue
        try:
            return index, _header_map(row, kind)
        except BadWorkbook as exc:
            first_error = first_error or exc
        seen += 1
        if seen >= HEADER_SCAN:
            break
    if first_error is None:
        raise BadWorkbook(_("The workbook is empty: the first sheet has no rows."))
    raise first_error


def _head(rows: Iterator[tuple[int, Sequence[Any]]]) -> list[tuple[int, Sequence[Any]]]:
    """Numbered rows up to the HEADER_SCAN-th non-blank one (where the header row must be)."""
    top, seen = [], 0
    for numbered in rows:
        top.append(numbered)
        seen += not _blank(numbered[1])
        if seen >= HEADER_SCAN:
            break
    return top


# Columns of long numbers: a cell Excel keeps as a number has lost its last digits (3.30381E+17).
LONG_NUMBERS = ("id_number", "credit_code")


def cell_problem(values: Sequence[Any], columns: dict[str, int], kind: str) -> str:
    """Why a row's cells cannot be read as typed, or "" (checked before the importer sees the row)."""
    for key, i in columns.items():
        value = values[i] if i < len(values) else None
        if value is None:
            continue
        if isinstance(value, str):
            if CONTROL_CHARACTERS.search(value):
                return f"{_header_of(kind, key)}: {CONTROL_MESSAGE}"
        elif key in LONG_NUMBERS and (
            isinstance(value, float) or (isinstance(value, int) and abs(value) >= 10**15)
        ):
            return _(
                "%(column)s: the cell is formatted as a number, so Excel rounded it (it shows like 3.30381E+17) and its last digits are lost. Format the column as text (Format Cells, Text), type the numbers again and upload the file again."
            ) % {"column": _header_of(kind, key)}
    return ""


def _header_of(kind: str, key: str) -> str:
    return next(c.header for c in COLUMNS[kind] if c.key == key)


def _open(fileobj: Any) -> Sheet:
    try:
        return Sheet(fileobj)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ET.ParseError, ExpatError) as exc:
        raise BadWorkbook(_("The file is not a readable .xlsx workbook.")) from exc


def _blank(values: Sequence[Any]) -> bool:
    return all(cell_text(v) == "" for v in values)


def check_upload(upload: UploadedFile, kind: str) -> None:
    """Refuse, before storing anything, a file that is not an .xlsx of the template's shape."""
    if kind not in COLUMNS:
        raise BadWorkbook(_("Unknown import kind."))
    name = (upload.name or "").lower()
    if not name.endswith(".xlsx"):
        raise BadWorkbook(_("Upload an .xlsx workbook (Excel 2007 or later); other files are refused."))
    if not upload.size:
        raise BadWorkbook(_("The file is empty."))
    if upload.size > settings.REGISTRY_IMPORT_MAX_BYTES:
        raise BadWorkbook(
            _("The file is larger than %(mb)s MB; split it.")
            % {"mb": settings.REGISTRY_IMPORT_MAX_BYTES // 2**20}
        )
    upload.seek(0)
    if upload.read(4) != XLSX_MAGIC:
        raise BadWorkbook(_("The file is not a readable .xlsx workbook."))
    upload.seek(0)
    try:
        first_rows = peek(upload)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ET.ParseError) as exc:
        raise BadWorkbook(_("The file is not a readable .xlsx workbook.")) from exc
    finally:
        upload.seek(0)
    at, _columns = find_header(first_rows, kind)
    if at + 1 >= len(first_rows):
        raise BadWorkbook(_("The workbook has the headers but no rows below them."))


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def peek(fileobj: Any) -> list[list[str]]:
    """The first sheet's first non-blank rows (enough to find the header row and one row below it).

    Reads only the start of the sheet and of the shared-strings table, so checking the shape of a
    100,000-row upload takes milliseconds (openpyxl reads the whole shared-strings table on opening;
    the import itself then streams the file with openpyxl in read-only mode).
    """
    with zipfile.ZipFile(fileobj) as archive:
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - expat, no external entities
        first = workbook.find(f"{_NS}sheets/{_NS}sheet")
        if first is None:
            return []
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
        target = next(
            r.get("Target", "")
            for r in rels.iter(f"{_PKG_NS}Relationship")
            if r.get("Id") == first.get(f"{_REL_NS}id")
        )
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        rows: list[list[tuple[str, str]]] = []
        with archive.open(path) as sheet:
            for _event, element in ET.iterparse(sheet):  # noqa: S314
                if element.tag != f"{_NS}row":
                    continue
                cells = [_peek_cell(c) for c in element.iter(f"{_NS}c")]
                element.clear()
                if not any(v not in ("", None) for _t, v in cells):
                    continue
                rows.append(cells)
                if len(rows) > HEADER_SCAN:
                    break
        wanted = {int(v) for row in rows for t, v in row if t == "s" and v.isdigit()}
        strings = _shared_strings(archive, wanted) if wanted else {}
        return [[strings.get(int(v), "") if t == "s" else (v or "") for t, v in row] for row in rows]


def _peek_cell(cell: Any) -> tuple[str, str]:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return kind, "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
    value = cell.find(f"{_NS}v")
    return kind, (value.text or "") if value is not None else ""


def _shared_strings(archive: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    last = max(wanted)
    with archive.open("xl/sharedStrings.xml") as table:
        index = 0
        for _event, element in ET.iterparse(table):  # noqa: S314
            if element.tag != f"{_NS}si":
                continue
            if index in wanted:
                found[index] = "".join(t.text or "" for t in element.iter(f"{_NS}t"))
            element.clear()
            if index >= last:
                break
            index += 1
    return found


def store_upload(job: ImportJob, upload: UploadedFile) -> str:
    return default_storage.save(f"registry/imports/{job.tenant_id}/{job.pk}-{uuid.uuid4().hex}.xlsx", upload)


# --- importers ------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: tuple[Any, ...]
    data: dict[str, str]
    parsed: dict[str, Any] = field(default_factory=dict)
    early: Any = None  # the importer's `early` work, done in the reading thread


@dataclass
class Outcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[tuple[int, tuple[Any, ...], str]] = field(default_factory=list)


class Importer:
    """Shared parts: the actor's plots, refusing rows, writing with history."""

    kind = ""
    overlaps = False  # True: batches may be written on a second connection while the next is checked

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor: User = job.actor
        self.tenant_id = job.tenant_id
        self.reason = _("import #%s") % job.pk
        self.written: list[Any] = []  # the models this import wrote to, for ANALYZE at the end
        # The plots the actor may change, with their ancestor columns: two queries for the whole import.
        plots = list(scoping.scope_nodes(self.actor, services.MANAGE).filter(level=Level.PLOT))
        parents = dict(
            GridNode.objects.filter(tenant_id=self.tenant_id, level__lt=Level.PLOT).values_list(
                "pk", "parent_id"
            )
        )
        self.plots: dict[str, GridNode] = {p.code: p for p in plots}
        self.plot_ids = {p.pk for p in plots}
        self.places: dict[int, dict[str, int | None]] = {}
        for p in plots:
            cell = p.parent_id
            township = parents.get(cell)
            city = parents.get(township)
            self.places[p.pk] = {
                "tenant_id": self.tenant_id,
                "city_id": city,
                "township_id": township,
                "cell_id": cell,
                "plot_id": p.pk,
            }
        self.seen: set[str | int] = set()
        self.seen_in_batch: list[str | int] = []  # this batch's keys, taken back if it rolls back
        # When set, `write` checks and prepares a batch without writing it: the writes are collected
        # here for the writer thread to run on its own connection (see `_Writer`).
        self.later: list[Callable[[], None]] | None = None
        # Rows the batch being written on the other connection made or changed, by natural key: the
        # next batch's lookups read them here, as the database does not show them before that commit.
        self.in_flight: dict[str, Any] = {}
        self.touched: dict[str, Any] = {}  # what `write` made or changed, for `in_flight`

    @staticmethod
    def early(data: dict[str, str]) -> Any:
        """Pure work on a row's cells, done in the reading thread while batches are written."""
        return None

    def plot(self, row: Row) -> GridNode:
        plot = self.plots.get(row.data.get("plot", ""))
        if plot is None:
            raise RowError(_("Plot code unknown or outside your grid."))
        return plot

    def required(self, row: Row, *keys: str) -> None:
        for key in keys:
            if not row.data.get(key):
                header = next(c.header for c in COLUMNS[self.kind] if c.key == key)
                raise RowError(_("%(column)s is required.") % {"column": header})

    def once(self, key: str | int) -> None:
        if key in self.seen:
            raise RowError(_("The same record appears earlier in this file; this row was skipped."))
        self.seen.add(key)
        self.seen_in_batch.append(key)

    def process(self, rows: list[Row], outcome: Outcome, attempts: int = 2) -> None:
        """Check then write one batch; a lost race with a concurrent writer retries the batch once."""
        for attempt in range(3 - attempts, 3):
            batch = Outcome()
            self.seen_in_batch = []
            try:
                with transaction.atomic():
                    self.write(rows, batch)
            except IntegrityError:
                # The rows of a batch rolled back were not written: the retry must not take them
                # for repeats of themselves.
                self.seen.difference_update(self.seen_in_batch)
                if attempt == 2:
                    for row in rows:
                        outcome.refused.append(
                            (
                                row.number,
                                row.values,
                                _("A concurrent change touched this row; upload the file again."),
                            )
                        )
                    return
                continue
            outcome.added += batch.added
            outcome.updated += batch.updated
            outcome.unchanged += batch.unchanged
            outcome.refused.extend(batch.refused)
            return

    def write(self, rows: list[Row], out: Outcome) -> None:
        raise NotImplementedError

    def create(self, model: Any, objs: list[Any]) -> list[Any]:
        if objs and model not in self.written:
            self.written.append(model)
        if self.later is not None:
            self.later.append(bulk.create_later(model, objs, user=self.actor, reason=self.reason))
            return objs
        return bulk.create_with_history(model, objs, user=self.actor, reason=self.reason)

    def update(self, model: Any, objs: list[Any], fields: list[str]) -> None:
        if objs and model not in self.written:
            self.written.append(model)
        if not objs:
            return
        if self.later is not None:
            # Copies: the next batch, checked meanwhile, may change the same household again.
            snapshot = [copy.copy(obj) for obj in objs]
            self.later.append(lambda: self._update(model, snapshot, fields))
        else:
            self._update(model, objs, fields)
        for obj in objs:
            obj.updated_at = timezone.now()

    def _update(self, model: Any, objs: list[Any], fields: list[str]) -> None:
        bulk_update_with_history(
            objs,
            model,
            [*fields, "updated_at"],
            batch_size=1000,
            default_user=self.actor,
            default_change_reason=self.reason,
        )

    def tally(self, changes: dict[services.Place, int]) -> None:
        if self.later is not None:
            self.later.append(lambda: services.tally_change(changes))
        else:
            services.tally_change(changes)

    @staticmethod
    def changed(obj: Any, values: dict[str, Any]) -> list[str]:
        diff = [name for name, value in values.items() if getattr(obj, name) != value]
        for name in diff:
            setattr(obj, name, values[name])
        return diff


def _field_of(column: str) -> str:
    return column.removesuffix("_id")


class ResidentImporter(Importer):
    kind = ImportKind.RESIDENTS
    overlaps = True

    @staticmethod
    def early(data: dict[str, str]) -> Any:
        """The ID number parsed and both numbers hashed (or the error that refuses them): `check`
        uses it, and raises the error in its place among the row's checks."""
        try:
            id_type = choice("id_type", data.get("id_type", ""))
        except RowError:
            return None
        return id_type, *ResidentImporter._numbers(id_type, data)

    @staticmethod
    def _numbers(id_type: str, data: dict[str, str]) -> tuple[Any, ...]:
        """(ID number's parts, its keyed hash, the phone's keyed hash), or (the ValidationError,)."""
        try:
            id_parts = services.id_parts(id_type, data.get("id_number", ""))
            phone = data.get("phone", "")
            return (
                id_parts,
                services.id_number_hash(id_parts[0]),
                services.phone_hash(phone) if phone.strip() else "",
            )
        except ValidationError as exc:
            return (exc,)

    def check(self, row: Row) -> None:
        d = row.data
        self.required(row, "plot", "household", "name", "id_number")
        plot = self.plot(row)
        id_type = choice("id_type", d.get("id_type", ""))
        # Hashes only here: a row already registered unchanged never pays for encryption.
        early = row.early
        numbers = early[1:] if early is not None and early[0] == id_type else self._numbers(id_type, d)
        if len(numbers) == 1:
            raise RowError(message_of(numbers[0]))
        id_parts, id_key, phone_key = numbers
        row.parsed = {
            "plot": plot,
            "id_type": id_type,
            "id_parts": id_parts,
            "id_hash": id_key,
            "phone_hash": phone_key,
            "relation": choice("relation", d.get("relation", "")),
            "population_type": choice("population_type", d.get("population_type", "")),
            "tags": parse_tags(d.get("tags", "")),
            "dwelling_key": (d.get("building", ""), d.get("room", "")) if d.get("building") else None,
        }
        if len(d["name"]) > 50 or len(d["household"]) > 32 or len(d.get("address", "")) > 200:
            raise RowError(_("A value is too long (name 50, household number 32, address 200 characters)."))
        self.once(int(id_key[:32], 16))  # 128 bits of the keyed hash: a third of the string's memory

    def write(self, rows: list[Row], out: Outcome) -> None:
        good: list[Row] = []
        for row in rows:
            try:
                self.check(row)
                good.append(row)
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))
        # Dwellings named by the rows (one query), households and residents already known (two).
        keys = {r.parsed["dwelling_key"] for r in good if r.parsed["dwelling_key"]}
        dwellings: dict[tuple[str, str], Dwelling] = {}
        if keys:
            codes = {k[0] for k in keys}
            for d in Dwelling.objects.filter(
                tenant_id=self.tenant_id, building__code__in=codes
            ).select_related("building"):
                dwellings[(d.building.code, d.number)] = d
        numbers = {r.data["household"] for r in good}
        households = {
            h.number: h
            for h in bulk.matching(Household.objects.filter(tenant_id=self.tenant_id), "number", numbers)
        }
        # Households the batch still being written made or changed, as that batch left them. (A
        # resident cannot be in two batches: `once` refuses the second row with the same ID.)
        households.update((n, h) for n, h in self.in_flight.items() if n in numbers)
        hashes = [r.parsed["id_hash"] for r in good]
        residents = {
            p.id_number_hash: p
            for p in bulk.matching(
                Resident.objects.filter(tenant_id=self.tenant_id), "id_number_hash", hashes
            )
        }

        new_households: dict[str, Household] = {}
        changed_households: dict[str, tuple[Household, set[str]]] = {}
        accepted: list[Row] = []
        for row in good:
            d, p = row.data, row.parsed
            try:
                dwelling = None
                if p["dwelling_key"]:
                    dwelling = dwellings.get(p["dwelling_key"])
                    if dwelling is None:
                        raise RowError(_("No such building code and room; import the buildings first."))
                    if dwelling.plot_id != p["plot"].pk:
                        raise RowError(_("The dwelling stands in another plot."))
                existing = residents.get(p["id_hash"])
                if existing is not None and existing.plot_id not in self.plot_ids:
                    raise RowError(
                        _(
                            "This person is registered in a grid outside yours; ask that grid or the city to move them."
                        )
                    )
                number = d["household"]
                if number in new_households:
                    household = new_households[number]
                elif number in households:
                    household = households[number]
                    if household.plot_id not in self.plot_ids:
                        raise RowError(_("This household number belongs to a grid outside yours."))
                    if household.plot_id != p["plot"].pk:
                        raise RowError(
                            _("This household is registered in another plot; move it on its page first.")
                        )
                    values = {
                        **self.places[p["plot"].pk],
                        "address": d.get("address", "") or household.address,
                        "tags": p["tags"] or household.tags,
                        "status": Status.ACTIVE,
                    }
                    if dwelling is not None:
                        values["dwelling_id"] = dwelling.pk
                    elif household.dwelling_id and values["plot_id"] != household.plot_id:
                        values["dwelling_id"] = None
                    diff = self.changed(household, values)
                    if diff:
                        changed_households.setdefault(number, (household, set()))[1].update(diff)
                else:
                    household = bulk.new(
                        Household,
                        {
                            **self.places[p["plot"].pk],
                            "number": number,
                            "address": d.get("address", ""),
                            "tags": p["tags"],
                            "dwelling_id": dwelling.pk if dwelling is not None else None,
                        },
                    )
                    new_households[number] = household
                accepted.append(row)
                row.parsed["household"] = household
                row.parsed["existing"] = existing
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))

        self.create(Household, list(new_households.values()))
        hh_fields = sorted({_field_of(f) for _h, diff in changed_households.values() for f in diff})
        self.update(Household, [h for h, _d in changed_households.values()], hh_fields)
        # New households, and deregistered ones the file brings back, count in their plot's tally.
        tally: Counter[services.Place] = Counter(services.place_key(h) for h in new_households.values())
        tally.update(services.place_key(h) for h, diff in changed_households.values() if "status" in diff)
        self.tally(dict(tally))
        self.touched = {**new_households, **{n: h for n, (h, _d) in changed_households.items()}}

        new_residents: list[Resident] = []
        changed_residents: list[Resident] = []
        changed_fields: set[str] = set()
        places: dict[int, dict[str, Any]] = {}  # each household's columns, worked out once
        for row in accepted:
            p, household = row.parsed, row.parsed["household"]
            place = places.get(household.pk)
            if place is None:
                place = places[household.pk] = {
                    **services.place_from(household),
                    "household_id": household.pk,
                }
            values = {
                **place,
                "name": row.data["name"],
                "relation": p["relation"],
                "population_type": p["population_type"],
                "status": Status.ACTIVE,
            }
            existing: Resident | None = p["existing"]
            if existing is None:
                resident = bulk.new(Resident, values)
                sealed = services.seal_id(
                    p["id_type"], row.data["id_number"], parts=p["id_parts"], hash=p["id_hash"]
                )
                services._apply_id(resident, sealed, p["id_type"])  # noqa: SLF001 - same package
                phone = services.seal_phone(row.data.get("phone", ""), hash=p["phone_hash"])
                services._apply_phone(resident, phone)  # noqa: SLF001
                new_residents.append(resident)
                out.added += 1
                continue
            diff = self.changed(existing, values)
            if p["phone_hash"] != existing.phone_hash:
                services._apply_phone(existing, services.seal_phone(row.data.get("phone", "")))  # noqa: SLF001
                diff += ["phone_enc", "phone_hash", "phone_masked"]
            if diff:
                changed_fields.update(_field_of(f) for f in diff)
                changed_residents.append(existing)
                out.updated += 1
            elif row.data["household"] in changed_households:
                out.updated += 1
            else:
                out.unchanged += 1
        self.create(Resident, new_residents)
        self.update(Resident, changed_residents, sorted(changed_fields))


class BuildingImporter(Importer):
    kind = ImportKind.BUILDINGS

    def check(self, row: Row) -> None:
        d = row.data
        self.required(row, "plot", "building", "name")
        plot = self.plot(row)
        floors = None
        if d.get("floors"):
            try:
                floors = int(d["floors"])
            except ValueError:
                raise RowError(_("Floors must be a whole number.")) from None
            if not 0 < floors < 200:
                raise RowError(_("Floors must be between 1 and 199."))
        if len(d["building"]) > 40 or len(d["name"]) > 200 or len(d.get("room", "")) > 40:
            raise RowError(_("A value is too long (building code 40, name 200, room 40 characters)."))
        row.parsed = {
            "plot": plot,
            "kind": choice("kind_building", d.get("kind", "")),
            "floors": floors,
            "use": choice("use", d.get("use", "")),
        }
        self.once(f"{d['building']}\x00{d.get('room', '')}")

    def write(self, rows: list[Row], out: Outcome) -> None:
        good: list[Row] = []
        for row in rows:
            try:
                self.check(row)
                good.append(row)
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))
        codes = {r.data["building"] for r in good}
        buildings = {b.code: b for b in Building.objects.filter(tenant_id=self.tenant_id, code__in=codes)}
        dwellings = {
            (d.building_id, d.number): d
            for d in Dwelling.objects.filter(building__in=list(buildings.values()))
        }
        new_b: dict[str, Building] = {}
        changed_b: dict[str, tuple[Building, set[str]]] = {}
        touched: dict[int, str] = {}  # row number -> "added" / "updated"
        accepted: list[Row] = []
        for row in good:
            d, p = row.data, row.parsed
            code = d["building"]
            try:
                if code in new_b:
                    pass
                elif code in buildings:
                    b = buildings[code]
                    if b.plot_id not in self.plot_ids:
                        raise RowError(_("This building code belongs to a grid outside yours."))
                    values = {
                        **self.places[p["plot"].pk],
                        "name": d["name"],
                        "kind": p["kind"],
                        "floors": p["floors"] if p["floors"] is not None else b.floors,
                        "status": Status.ACTIVE,
                    }
                    diff = self.changed(b, values)
                    if diff:
                        changed_b.setdefault(code, (b, set()))[1].update(diff)
                        touched[row.number] = "updated"
                else:
                    new_b[code] = Building(
                        **self.places[p["plot"].pk],
                        code=code,
                        name=d["name"],
                        kind=p["kind"],
                        floors=p["floors"],
                    )
                    touched[row.number] = "added"
                accepted.append(row)
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))
        self.create(Building, list(new_b.values()))
        self.update(
            Building,
            [b for b, _d in changed_b.values()],
            sorted({_field_of(f) for _b, diff in changed_b.values() for f in diff}),
        )
        all_b = {**buildings, **new_b}
        new_d: list[Dwelling] = []
        changed_d: list[Dwelling] = []
        d_fields: set[str] = set()
        for row in accepted:
            b = all_b[row.data["building"]]
            room = row.data.get("room", "")
            if room:
                existing = dwellings.get((b.pk, room))
                values = {
                    k: getattr(b, k) for k in ("tenant_id", "city_id", "township_id", "cell_id", "plot_id")
                }
                values.update(use=row.parsed["use"], status=Status.ACTIVE)
                if existing is None:
                    new_d.append(Dwelling(**values, building=b, number=room))
                    touched[row.number] = "added"
                else:
                    diff = self.changed(existing, values)
                    if diff:
                        changed_d.append(existing)
                        d_fields.update(_field_of(f) for f in diff)
                        touched.setdefault(row.number, "updated")
            result = touched.get(row.number)
            if result == "added":
                out.added += 1
            elif result == "updated":
                out.updated += 1
            else:
                out.unchanged += 1
        self.create(Dwelling, new_d)
        self.update(Dwelling, changed_d, sorted(d_fields))


class EstablishmentImporter(Importer):
    kind = ImportKind.ESTABLISHMENTS

    def check(self, row: Row) -> None:
        d = row.data
        self.required(row, "plot", "credit_code", "name")
        plot = self.plot(row)
        try:
            code = normalize_uscc(d["credit_code"])
            phone = services.seal_phone(d.get("contact_phone", ""))
        except ValidationError as exc:
            raise RowError(message_of(exc)) from None
        staff = None
        if d.get("staff"):
            try:
                staff = int(d["staff"])
            except ValueError:
                raise RowError(_("Staff must be a whole number.")) from None
        if len(d["name"]) > 200 or len(d.get("address", "")) > 200 or len(d.get("contact", "")) > 50:
            raise RowError(_("A value is too long (name and address 200, contact 50 characters)."))
        row.parsed = {
            "plot": plot,
            "code": code,
            "phone": phone,
            "staff": staff,
            "kind": choice("kind_establishment", d.get("kind", "")),
        }
        self.once(code)

    def write(self, rows: list[Row], out: Outcome) -> None:
        good: list[Row] = []
        for row in rows:
            try:
                self.check(row)
                good.append(row)
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))
        codes = {r.parsed["code"] for r in good}
        existing = {
            o.credit_code: o
            for o in Establishment.objects.filter(tenant_id=self.tenant_id, credit_code__in=codes)
        }
        b_codes = {r.data["building"] for r in good if r.data.get("building")}
        buildings = (
            {b.code: b for b in Building.objects.filter(tenant_id=self.tenant_id, code__in=b_codes)}
            if b_codes
            else {}
        )
        new: list[Establishment] = []
        changed: list[Establishment] = []
        fields: set[str] = set()
        for row in good:
            d, p = row.data, row.parsed
            try:
                building = None
                if d.get("building"):
                    building = buildings.get(d["building"])
                    if building is None or building.plot_id != p["plot"].pk:
                        raise RowError(_("No such building code in this plot; import the buildings first."))
                values = {
                    **self.places[p["plot"].pk],
                    "name": d["name"],
                    "kind": p["kind"],
                    "address": d.get("address", ""),
                    "building_id": building.pk if building else None,
                    "staff_count": p["staff"],
                    "contact_name": d.get("contact", ""),
                    "status": Status.ACTIVE,
                }
                est = existing.get(p["code"])
                if est is None:
                    est = Establishment(**values, credit_code=p["code"])
                    services._apply_phone(est, p["phone"], "contact_phone")  # noqa: SLF001
                    new.append(est)
                    out.added += 1
                    continue
                if est.plot_id not in self.plot_ids:
                    raise RowError(_("This establishment is registered in a grid outside yours."))
                diff = self.changed(est, values)
                if p["phone"].hash != est.contact_phone_hash:
                    services._apply_phone(est, p["phone"], "contact_phone")  # noqa: SLF001
                    diff += ["contact_phone_enc", "contact_phone_hash", "contact_phone_masked"]
                if diff:
                    changed.append(est)
                    fields.update(_field_of(f) for f in diff)
                    out.updated += 1
                else:
                    out.unchanged += 1
            except RowError as exc:
                out.refused.append((row.number, row.values, str(exc)))
        self.create(Establishment, new)
        self.update(Establishment, changed, sorted(fields))


@dataclass
class _Plan:
    """A batch checked and prepared on the main connection, its writes not yet run."""

    rows: list[Row]
    last_row: int
    outcome: Outcome
    writes: list[Callable[[], None]]
    seen: list[str | int]
    touched: dict[str, Any]
    done: Future[None] | None = None


class _Writer:
    """Writes each batch on a second connection while the main thread checks the next one.

    The Python work of a batch (checking rows, encrypting numbers, writing COPY's text) and the
    database's (COPY, indexes, the foreign-key checks at commit) used to take turns; here they
    overlap, one batch apart. The next batch's lookups do not wait for the previous commit: the
    households that batch made or changed are kept (`Importer.in_flight`) and read in place of the
    database's. A batch's outcome counts only once it has committed; if its transaction fails on a
    lost race (an IntegrityError), the batch checked meanwhile is set aside, the failed one is checked
    and written again on the main connection (its one retry), then the set-aside one is checked
    again. PostgreSQL only, and never inside a caller's transaction (a second connection would not
    see its rows); decision 1104.
    """

    def __init__(self, importer: Importer, outcome: Outcome, job: ImportJob):
        self.importer, self.outcome, self.job = importer, outcome, job
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self.pending: _Plan | None = None

    def flush(self, rows: list[Row], last_row: int) -> None:
        if not rows:
            self.finish()
            _progress(self.job, self.outcome, last_row)
            return
        plan = self._plan(rows, last_row)
        if self.pending is not None and not self.finish():
            self._forget(plan)  # checked against a batch that was then written again: check again
            plan = self._plan(rows, last_row)
        plan.done = self.pool.submit(self._write, plan.writes)
        self.pending = plan
        self.importer.in_flight = plan.touched

    def _plan(self, rows: list[Row], last_row: int) -> _Plan:
        importer = self.importer
        importer.later, importer.seen_in_batch, importer.touched = [], [], {}
        outcome = Outcome()
        try:
            importer.write(rows, outcome)
            return _Plan(rows, last_row, outcome, importer.later, importer.seen_in_batch, importer.touched)
        finally:
            importer.later = None

    def _forget(self, plan: _Plan) -> None:
        self.importer.seen.difference_update(plan.seen)

    @staticmethod
    def _write(writes: list[Callable[[], None]]) -> None:
        with transaction.atomic():
            for write in writes:
                write()

    def finish(self) -> bool:
        """Wait for the batch being written; False when it failed and was written again here."""
        plan, self.pending = self.pending, None
        if plan is None or plan.done is None:
            return True
        try:
            plan.done.result()
        except IntegrityError:
            self._forget(plan)
            self.importer.in_flight = {}
            self.importer.process(plan.rows, self.outcome, attempts=1)
            _progress(self.job, self.outcome, plan.last_row)
            return False
        self.outcome.added += plan.outcome.added
        self.outcome.updated += plan.outcome.updated
        self.outcome.unchanged += plan.outcome.unchanged
        self.outcome.refused.extend(plan.outcome.refused)
        _progress(self.job, self.outcome, plan.last_row)
        return True

    def close(self) -> None:
        """Wait for the last batch (even when the import stops on an error), then end the thread."""
        try:
            if self.pending is not None:
                self.finish()
        finally:
            self.pool.submit(_close_connection).result()  # the writer thread's own connection
            self.pool.shutdown()


def _close_connection() -> None:
    """Close the calling thread's connection (`connection` names the caller's own)."""
    connection.close()


def _overlaps(importer: Importer) -> bool:
    return (
        importer.overlaps
        and settings.REGISTRY_IMPORT_OVERLAP
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.RESIDENTS: ResidentImporter,
    ImportKind.BUILDINGS: BuildingImporter,
    ImportKind.ESTABLISHMENTS: EstablishmentImporter,
}


def _save_job(job: ImportJob, *fields: str) -> None:
    job.save(update_fields=list(fields))


def run_import(job_id: int) -> ImportJob:
    """Run one queued import to the end. Running it again after it finished changes nothing."""
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    if job.finished:
        return job
    job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
    _save_job(job, "status", "started_at")
    outcome = Outcome()
    header: tuple[Any, ...] = ()
    importer: Importer | None = None
    try:
        with default_storage.open(job.source, "rb") as fh, _open(fh) as sheet:
            rows = sheet.rows()
            prepared: Generator[tuple[int, tuple[Any, ...], str, dict[str, str], Any], None, None] | None = (
                None
            )
            writer: _Writer | None = None
            try:
                job.total_rows = max((sheet.max_row or 1) - 1, 0) or None
                top = _head(rows)  # a title may sit above the headers
                at, columns = find_header((values for _n, values in top), job.kind)
                number, header = top[at]
                importer = IMPORTERS[job.kind](job)
                # Parsed and read into cells by a thread of its own while the batches are written.
                prepared = read_ahead(
                    _prepare(itertools.chain(top[at + 1 :], rows), columns, job.kind, importer.early)
                )
                writer = _Writer(importer, outcome, job) if _overlaps(importer) else None
                batch: list[Row] = []
                for number, values, problem, data, early in prepared:
                    if problem:
                        outcome.refused.append((number, values, problem))
                        continue
                    batch.append(Row(number=number, values=values, data=data, early=early))
                    if len(batch) >= settings.REGISTRY_IMPORT_BATCH:
                        if writer is not None:
                            writer.flush(batch, number)
                        else:
                            _flush(importer, batch, outcome, job, number)
                        batch = []
                if writer is not None:
                    writer.flush(batch, number)
                else:
                    _flush(importer, batch, outcome, job, number)
            finally:
                if writer is not None:
                    writer.close()  # the batch on the other connection is in (or refused) first
                if prepared is not None:
                    prepared.close()  # the reading thread ends first
                rows.close()
                if importer is not None:
                    # Fresh planner statistics for what the import wrote (see ruian_grid.db.analyze).
                    db.analyze(*importer.written)
    except BadWorkbook as exc:
        job.status, job.message = ImportStatus.FAILED, message_of(exc)[:500]
    except DAMAGED as exc:
        # A file damaged part-way: the batches before the damage are in, whole; say where it stopped.
        job.status = ImportStatus.FAILED
        job.message = _("The file is damaged after row %(row)s; the rows before it were imported.") % {
            "row": job.processed_rows + 1
        }
        logger.warning("import %s stopped on a damaged file: %s", job.pk, type(exc).__name__)
    else:
        job.status = ImportStatus.DONE
        job.message = ""
    if outcome.refused:
        job.refused_file = _write_refused(job, header, outcome.refused)
    job.finished_at = timezone.now()
    _save_job(job, "status", "message", "refused_file", "finished_at", "total_rows")
    default_storage.delete(job.source)
    return job


def _prepare(
    rows: Iterable[tuple[int, tuple[Any, ...]]],
    columns: dict[str, int],
    kind: str,
    early: Callable[[dict[str, str]], Any] = lambda _data: None,
) -> Iterator[tuple[int, tuple[Any, ...], str, dict[str, str], Any]]:
    """The non-blank rows below the headers as (number, values, why the cells cannot be read or "",
    the cells as text by column key, the importer's `early` work on them)."""
    keys = list(columns)
    positions = list(columns.values())
    reach = max(positions) + 1
    pick = itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))
    for number, values in rows:
        if _blank(values):
            continue
        picked = pick(values if len(values) >= reach else (*values, *(None,) * (reach - len(values))))
        texts = [v for v in picked if v.__class__ is str]
        # A row of text cells (the common one) has a problem only if one holds a control character;
        # any other row gets cell_problem's reason for the first column in trouble.
        if len(texts) + picked.count(None) == len(picked) and not CONTROL_CHARACTERS.search("".join(texts)):
            problem = ""
        else:
            problem = cell_problem(values, columns, kind)
        if problem:
            yield number, values, problem, {}, None
            continue
        data = dict(
            zip(keys, [v.strip() if v.__class__ is str else cell_text(v) for v in picked], strict=True)
        )
        yield number, values, "", data, early(data)


def _flush(importer: Importer, batch: list[Row], outcome: Outcome, job: ImportJob, last_row: int) -> None:
    if batch:
        importer.process(batch, outcome)
    _progress(job, outcome, last_row)


def _progress(job: ImportJob, outcome: Outcome, last_row: int) -> None:
    job.processed_rows = max(last_row - 1, 0)
    job.added, job.updated, job.unchanged, job.refused = (
        outcome.added,
        outcome.updated,
        outcome.unchanged,
        len(outcome.refused),
    )
    _save_job(job, "processed_rows", "added", "updated", "unchanged", "refused", "total_rows")


def _write_refused(
    job: ImportJob, header: Sequence[Any], refused: list[tuple[int, tuple[Any, ...], str]]
) -> str:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("拒绝的行")
    width = len(header)
    sheet.append([*header, "原行号", REASON_HEADER])
    for number, values, reason in sorted(refused, key=lambda r: r[0]):
        padded = list(values[:width]) + [None] * (width - len(values))
        sheet.append(_as_text(sheet, [*padded, number, reason]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return default_storage.save(
        f"registry/imports/{job.tenant_id}/{job.pk}-refused-{uuid.uuid4().hex}.xlsx",
        ContentFile(buffer.getvalue()),
    )


# --- templates and exports ------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE7E4")

EXAMPLES = {
    ImportKind.RESIDENTS: [
        "33038100520101",
        "JS-0001",
        "九三村1号",
        "JS-B01",
        "101",
        "独居老人、低保",
        "林某",
        "居民身份证",
        resident_id(1),
        "户主",
        "户籍人口",
        "19900000001",
    ],
    ImportKind.BUILDINGS: ["33038100520101", "JS-B01", "九三村1幢", "住宅", "3", "101", "自住"],
    ImportKind.ESTABLISHMENTS: [
        "33038100520101",
        credit_code(1),
        "九三五金厂",
        "企业",
        "九三村工业区2号",
        "JS-B01",
        "35",
        "林某",
        "19900000002",
    ],
}
NOTES = [
    "带 * 的列必填；第一行是表头，请勿修改。",
    "片格编码：见“片格”工作表，只能填写您管辖范围内的片格。",
    "证件号码、手机号码、统一社会信用代码请以文本格式填写（模板已设为文本）。",
    "出生日期和性别由身份证号码自动得出，无需填写。",
    "户标签可填多个，用顿号分隔：独居老人、残疾、低保、外出务工、留守儿童、退役军人。",
    "人口类型：户籍人口、流动人口、境外人员；与户主关系：户主、配偶、子女、父母、孙子女、其他。",
    "同一文件再次上传不会重复登记：按户号、证件号码、楼栋编码和房号、统一社会信用代码匹配。",
    "示例（不要粘贴到数据表）：",
]


def template_workbook(kind: str, plots: Iterable[GridNode]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "数据"
    for index, col in enumerate(COLUMNS[kind], start=1):
        cell = sheet.cell(row=1, column=index, value=col.header + ("*" if col.required else ""))
        cell.font = _HEADER_FONT
        if col.required:
            cell.fill = _REQUIRED_FILL
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = col.width
        if col.text:
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 2002):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    for line in NOTES:
        notes.append([line])
    notes.append([c.header for c in COLUMNS[kind]])
    notes.append(EXAMPLES[kind])
    plot_sheet = workbook.create_sheet("片格")
    plot_sheet.append(["片格编码", "片格名称", "所属村居"])
    for p in plots:
        plot_sheet.append([p.code, p.name, p.parent.name if p.parent_id else ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@")


def _as_text(sheet: Any, row: Iterable[Any]) -> list[Any]:
    """Values a user typed stay text: "=…" would otherwise be written as a formula (formula injection);
    characters a workbook cannot hold (control characters) are left out."""
    out: list[Any] = []
    for raw in row:
        value = printable(raw)  # a control character stored earlier must not make the file fail
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out


def export_workbook(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """A list as .xlsx, streamed row by row into a write-only workbook."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append(_as_text(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
