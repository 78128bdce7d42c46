"""The workbench's panel registry: register, replace, unregister, order, and panels that do not apply."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from ruian_grid import workbench
from ruian_grid.workbench import Item, Panel, panel


@pytest.fixture
def empty_registry(monkeypatch):
    """A registry of our own for the test (the apps' panels are put back afterwards)."""
    monkeypatch.setattr(workbench, "_registry", {})
    return workbench._registry


def _request():
    return RequestFactory().get("/")


def test_panels_come_in_order_and_none_is_left_out(empty_registry):
    @panel("b.second", order=20)
    def second(request):
        return Panel(title="second", items=[Item("x", 1, "/x")])

    @panel("a.first", order=10)
    def first(request):
        return Panel(title="first")

    @panel("c.hidden", order=5)
    def hidden(request):
        return None

    assert [p.title for p in workbench.panels_for(_request())] == ["first", "second"]


def test_same_order_falls_back_to_the_key(empty_registry):
    panel("z.last", order=10)(lambda request: Panel(title="z"))
    panel("m.middle", order=10)(lambda request: Panel(title="m"))
    assert [p.title for p in workbench.panels_for(_request())] == ["m", "z"]


def test_registering_a_key_again_replaces_it_and_unregister_removes_it(empty_registry):
    panel("x.one", order=10)(lambda request: Panel(title="old"))
    panel("x.one", order=10)(lambda request: Panel(title="new"))
    assert [p.title for p in workbench.panels_for(_request())] == ["new"]
    workbench.unregister("x.one")
    workbench.unregister("x.one")  # a second time is harmless
    assert workbench.panels_for(_request()) == []


def test_the_apps_panels_are_discovered():
    """autodiscover imported cases/panels.py and ruian_grid/panels.py at start-up."""
    assert {"cases.managed", "cases.unit", "cases.mine", "core.admin"} <= set(workbench._registry)
