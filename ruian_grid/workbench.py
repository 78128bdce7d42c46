"""The workbench's panels: one small registry that every app adds to, so the landing page never needs
editing when an app arrives.

An app contributes a panel by defining, in its own `panels.py`, a function that takes the request and
returns a `Panel` (or None when the panel does not apply to this user), decorated with `@panel(...)`;
`autodiscover()` (called from `RuianGridConfig.ready`) imports every installed app's `panels` module.
A panel's counts must come from that app's selectors (already scoped), one indexed query per count.

    # cases/panels.py
    from ruian_grid.workbench import Item, Panel, panel

    @panel("cases.township", order=10)
    def township_cases(request):
        if not ...: return None
        return Panel(title=_("Cases"), items=[Item(_("To dispatch"), n, url), ...])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.http import HttpRequest


@dataclass(frozen=True)
class Item:
    """One count on a panel, opening the filtered list it counts."""

    label: str
    count: int | None
    url: str
    tone: str = ""  # "", "warn" or "danger": how the count is coloured
    estimated: bool = False  # a fast estimate above a threshold, labelled as such


@dataclass(frozen=True)
class Panel:
    title: str
    items: list[Item] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) under the counts
    order: int = 100


PanelFunc = Callable[[HttpRequest], "Panel | None"]
_registry: dict[str, tuple[int, PanelFunc]] = {}


def panel(key: str, *, order: int = 100) -> Callable[[PanelFunc], PanelFunc]:
    """Register a panel under a unique key; registering the same key again replaces it."""

    def register(func: PanelFunc) -> PanelFunc:
        _registry[key] = (order, func)
        return func

    return register


def unregister(key: str) -> None:
    _registry.pop(key, None)


def panels_for(request: HttpRequest) -> list[Panel]:
    """The panels that apply to this user, in order."""
    found = []
    for _key, (order, func) in sorted(_registry.items(), key=lambda kv: (kv[1][0], kv[0])):
        result = func(request)
        if result is not None:
            found.append((order, result))
    return [p for _order, p in found]


def autodiscover() -> None:
    for config in apps.get_app_configs():
        name = f"{config.name}.panels"
        if find_spec(name) is not None:
            import_module(name)
