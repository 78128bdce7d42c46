"""Bulk inserts with their history rows.

On PostgreSQL new rows go in with COPY: ids are drawn from the table's sequence first (so children can
point at parents in the same batch), then the rows and their django-simple-history rows (type "+",
the importing user, the import as the reason) are streamed. That is several times faster than
`bulk_create`, whose per-field preparation dominated the 100,000-row import. Elsewhere (SQLite) it
falls back to simple-history's `bulk_create_with_history`. Only plain field types are used by the
registry models (text, integers, foreign-key ids, aware datetimes), which COPY adapts as they are.
`create_later` splits the PostgreSQL path in two: the ids and the COPY text now, the COPY itself
later, on the import's writer connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from operator import attrgetter, itemgetter
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet
from django.db.models.base import ModelState
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def matching(qs: QuerySet[Any], field: str, values: Iterable[Any]) -> QuerySet[Any]:
    """`qs` narrowed to rows whose `field` is one of `values`. On PostgreSQL one array parameter
    (`= ANY(%s)`): Django's `__in` prepares each of a batch's 2,000 values on its own, which cost
    an import more than the lookup itself."""
    values = list(values)
    if connection.vendor != "postgresql":
        return qs.filter(**{f"{field}__in": values})
    column = qs.model._meta.get_field(field).column
    where = f"{_quote(qs.model._meta.db_table)}.{_quote(column)} = ANY(%s)"
    return qs.extra(where=[where], params=[values])  # noqa: S610 - our own column name, values bound


_DEFAULTS: dict[type[models.Model], list[tuple[str, Any, bool]]] = {}


def new(model: type[models.Model], values: dict[str, Any]) -> Any:
    """An unsaved instance from attribute names (`plot_id`, not `plot`), without `Model.__init__`'s
    per-field work: every concrete field's default, then `values`. For rows built by the thousand;
    the model's signals (pre_init/post_init) are not sent, and the registry models have none."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = []
        for f in model._meta.concrete_fields:
            callable_default = f.has_default() and callable(f.default)
            defaults.append((f.attname, f.default if callable_default else f.get_default(), callable_default))
        _DEFAULTS[model] = defaults
    obj = model.__new__(model)
    obj._state = ModelState()
    attrs = obj.__dict__
    for name, default, call in defaults:
        attrs[name] = default() if call else default
    attrs.update(values)
    return obj


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows in; driver errors become Django's (a duplicate is an IntegrityError, as for INSERT)."""
    sql = f"COPY {_quote(table)} ({', '.join(_quote(c) for c in columns)}) FROM STDIN"
    with connection.wrap_database_errors, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


class _NotPlain(Exception):
    """A value `_field_text` does not write (then psycopg adapts the rows)."""


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field_text(value: Any) -> str:
    """A value in COPY's text format, for the plain types the registry's rows hold."""
    if value is None:
        return "\\N"
    kind = value.__class__
    if kind is int:
        return str(value)
    if kind is str or isinstance(value, str):  # choices (TextChoices members) are str too
        text = value if kind is str else str.__str__(value)
        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
            return text.translate(_ESCAPES)
        return text
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.datetime or kind is dt.date:
        return value.isoformat()
    raise _NotPlain


def _as_text(
    objs: list[Any], shared: list[str], own: list[str], tail: tuple[Any, ...]
) -> tuple[list[str], list[str]]:
    """The COPY lines of `objs` (`shared` then `own` attributes) and of their history rows (`shared`
    then `tail`): each row's `shared` part is written once, for both."""
    after = "\t" + "\t".join(map(_field_text, tail))
    lines, h_lines = [], []
    for start, rest in zip(
        _values(objs, shared), _values(objs, own) if own else ((),) * len(objs), strict=True
    ):
        text = "\t".join(map(_field_text, start))
        lines.append(text + "\t" + "\t".join(map(_field_text, rest)) if rest else text)
        h_lines.append(text + after)
    return lines, h_lines


def _copy_text(cursor: Any, table: str, columns: list[str], lines: list[str], chunk: int = 1000) -> None:
    """COPY lines already in the text format, a thousand to a write."""
    sql = f"COPY {_quote(table)} ({', '.join(_quote(c) for c in columns)}) FROM STDIN"
    with connection.wrap_database_errors, cursor.copy(sql) as copy:
        for at in range(0, len(lines), chunk):
            copy.write(("\n".join(lines[at : at + chunk]) + "\n").encode())


def _values(objs: list[Any], names: list[str]) -> Iterable[tuple[Any, ...]]:
    """Each object's values of the attributes `names`, as a tuple: one C call a row, read from the
    instance's dict when every object holds them all there (a foreign key's `_id` attribute would
    otherwise go through its descriptor)."""
    needed = set(names)
    if all(o.__dict__.keys() >= needed for o in objs):
        pick = itemgetter(*names)
        rows = (pick(o.__dict__) for o in objs)
    else:
        rows = map(attrgetter(*names), objs)
    return rows if len(names) > 1 else ((value,) for value in rows)  # one name: a value, not a tuple


def create_with_history(model: type[models.Model], objs: list[Any], *, user: Any, reason: str) -> list[Any]:
    """Insert `objs` (unsaved) and one history row each; sets their primary keys."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return bulk_create_with_history(
            objs, model, batch_size=1000, default_user=user, default_change_reason=reason
        )
    create_later(model, objs, user=user, reason=reason)()
    return objs


def create_later(model: type[models.Model], objs: list[Any], *, user: Any, reason: str) -> Callable[[], None]:
    """PostgreSQL only: draw the ids of `objs` (set on them now) and write their rows' COPY text now;
    return the write itself, to run later on whichever connection the calling thread has then (the
    import's writer thread). The rows are taken as they are now: later changes to `objs` are not
    written."""
    if not objs:
        return _nothing
    meta = model._meta
    now = timezone.now()
    fields = list(meta.concrete_fields)
    stamps = {
        f.attname: now for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    pk_name, alias = meta.pk.attname, connection.alias
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.__dict__.update(stamps)
            obj.__dict__[pk_name] = pk
            obj._state.adding = False
            obj._state.db = alias
    history = model.history.model  # type: ignore[attr-defined]
    tracked = [f for f in history._meta.concrete_fields if f.attname not in HISTORY_FIELDS]
    extra = ["history_date", "history_change_reason", "history_type", "history_user_id"]
    h_columns = [f.column for f in tracked] + [
        history._meta.get_field(n.removesuffix("_id")).column for n in extra
    ]
    tail = (now, reason, "+", getattr(user, "pk", None))
    # The table's columns in the history table's order first, so that each row's text, written
    # once, is also the start of its history row's.
    column_of = {f.attname: f.column for f in fields}
    shared = [f.attname for f in tracked]
    own = [f.attname for f in fields if f.attname not in set(shared)]
    if set(shared) <= column_of.keys():
        try:
            lines, h_lines = _as_text(objs, shared, own, tail)
        except _NotPlain:
            pass
        else:
            columns = [column_of[a] for a in [*shared, *own]]

            def write_text() -> None:
                with connection.cursor() as cursor:
                    _copy_text(cursor.cursor, meta.db_table, columns, lines)
                    _copy_text(cursor.cursor, history._meta.db_table, h_columns, h_lines)

            return write_text
    columns = [f.column for f in fields]
    rows = list(_values(objs, [f.attname for f in fields]))
    h_rows = [row + tail for row in _values(objs, [f.attname for f in tracked])]

    def write_rows() -> None:
        with connection.cursor() as cursor:
            _copy(cursor.cursor, meta.db_table, columns, rows)
            _copy(cursor.cursor, history._meta.db_table, h_columns, h_rows)

    return write_rows


def _nothing() -> None:
    return None
