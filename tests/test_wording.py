# ruff: noqa: F811 - fixtures imported from the apps' conftest files are redefined as arguments
"""The right Chinese words: a person's 姓名, relations that are relations, a county that is a county,
the admin that names the product, the language menu, the favicon."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import translation

from grids.models import Kind
from grids.registry.models import Relation, Resident
from tests.conftest import PASSWORD
from tests.registry.conftest import people  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def web(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_relations_are_relations_and_a_persons_name_is_xingming():
    with translation.override("zh-hans"):
        assert [str(label) for label in Relation.labels] == [
            "户主",
            "配偶",
            "子女",
            "父母",
            "孙子女",
            "其他亲属或借住",
        ]
        assert str(Resident._meta.get_field("name").verbose_name) == "姓名"
    with translation.override("en"):
        assert str(Relation.PARENT.label) == "parent"


def test_the_resident_form_and_page_say_xingming_and_relations(cast, people):
    client = web(cast.township_a_admin)
    form = client.get(reverse("registry:resident_new", args=[people.h1.pk])).content.decode()
    assert "姓名" in form and "父母" in form and "上级网格" not in form


def test_a_county_is_a_county(cast):
    assert cast.other_city.kind == Kind.COUNTY and cast.city.kind == Kind.CITY
    page = web(cast.other_tenant_admin).get(reverse("grids:node", args=[cast.other_city.pk]))
    assert "县" in page.content.decode()
    with translation.override("zh-hans"):
        assert cast.other_city.get_kind_display() == "县"


def test_the_admin_names_the_product_and_has_the_favicon(cast):
    page = web(cast.city_admin).get("/admin/").content.decode()
    assert "平安网格 管理后台" in page and "Django" not in page.split("<body", 1)[1]
    assert "favicon.svg" in page
    assert finders.find("favicon.svg")


def test_the_language_menu_names_each_language_in_itself(cast):
    for language in ("zh-hans", "en"):
        client = web(cast.village_member)
        client.cookies["django_language"] = language
        page = client.get(reverse("grids:node", args=[cast.cell_a1.pk])).content.decode()
        menu = page.split('name="language"', 1)[1].split("</select>", 1)[0]
        assert ">简体中文</option>" in menu and ">English</option>" in menu
        assert "onchange" not in page  # no inline script: the menu submits from static/js/app.js


def test_the_admin_shows_tags_and_timeline_by_name(cast, people):
    page = web(cast.city_admin).get(f"/admin/grids/household/{people.h1.pk}/change/").content.decode()
    assert "独居老人" in page
