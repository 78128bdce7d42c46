"""The daily work log (工作日志): one small registry of sources that every app adds to, read as a union.

A person's or an office's log of one day is not stored: it is read from what they did in the system
(visits, case timeline entries they acted in, registry changes), each app answering for its own
tables, plus the notes people add (`teams.WorkLogNote`). An app contributes a source by defining, in
its own `worklog.py`, a function that takes a `LogQuery` and returns `Entry` rows, decorated with
`@source(...)`; the modules are imported on first use. A source reads through its app's scoped
selectors (the reader's grid) in one query, so a log page costs the same whatever was done that day.

The log of a person (`person`) lists what that person did; the log of an office (`node`, a township or
a cell) lists what anyone did in that grid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.utils import timezone

ENTRY_LIMIT = 300  # per source and day: a day with more is cut, and says so


@dataclass(frozen=True)
class LogQuery:
    reader: Any  # the signed-in user: every source limits itself to the reader's grid
    day: dt.date
    person: Any = None  # a User, or None for an office's log
    node: Any = None  # a GridNode (township or cell), or None for a person's log

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.day, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=1)


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # "visit", "case", "registry", "note", "annotation"
    label: str
    detail: str = ""
    url: str = ""
    actor: str = ""
    note_id: int | None = None  # a note the reader may still edit
    editable: bool = False


SourceFunc = Callable[[LogQuery], list[Entry]]
_registry: dict[str, SourceFunc] = {}
_discovered = False


def source(key: str) -> Callable[[SourceFunc], SourceFunc]:
    """Register a source under a unique key; registering the same key again replaces it."""

    def register(func: SourceFunc) -> SourceFunc:
        _registry[key] = func
        return func

    return register


def autodiscover() -> None:
    global _discovered
    for config in apps.get_app_configs():
        name = f"{config.name}.worklog"
        if find_spec(name) is not None:
            import_module(name)
    _discovered = True


def entries(query: LogQuery) -> list[Entry]:
    """Every source's entries for the day, in time order (one query per source)."""
    if not _discovered:
        autodiscover()
    found: list[Entry] = []
    for key in sorted(_registry):
        found.extend(_registry[key](query))
    return sorted(found, key=lambda e: e.at)
