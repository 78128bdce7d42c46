"""Bugs found by a new user: the household tag filter had no blank choice (every search silently
limited to 独居老人); the resident search said "找到 100 人" without saying the list was capped."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from grids.registry import services
from grids.registry import views as registry_views


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_household_search_is_not_limited_to_a_tag(cast):
    plain = services.household_create(
        actor=cast.city_admin, plot=cast.plot_a1, number="JS-0012", address="上望街道九三村12号"
    )
    client = web(cast.township_a_staff)
    page = client.get(reverse("registry:households"))
    html = page.content.decode()
    assert '<option value="" selected>全部标签</option>' in html  # the blank choice comes first
    # What the browser submits when the filter form is sent untouched: tag="".
    found = client.get(reverse("registry:households"), {"q": "九三村12号", "tag": ""})
    assert [h.pk for h in found.context["page_obj"]] == [plain.pk]
    # Choosing a tag still narrows.
    tagged = client.get(reverse("registry:households"), {"q": "九三村12号", "tag": "1"})
    assert list(tagged.context["page_obj"]) == []


def test_resident_search_says_when_the_list_is_capped(cast, people, monkeypatch):
    monkeypatch.setattr(registry_views, "SEARCH_CAP", 1)
    client = web(cast.city_admin)
    response = client.post(reverse("registry:search"), {"q": "九三村"})
    html = response.content.decode()
    assert len(response.context["results"]) == 1 and response.context["capped"]
    assert "显示前 1 人，请缩小范围" in html
    # Below the cap, the plain count.
    monkeypatch.setattr(registry_views, "SEARCH_CAP", 100)
    response = client.post(reverse("registry:search"), {"q": "九三村"})
    assert not response.context["capped"] and "显示前" not in response.content.decode()
    assert len(response.context["results"]) == 2
