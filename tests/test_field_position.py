# ruff: noqa: F811 - fixtures imported from the apps' conftest files are redefined as arguments
"""Field recording: a position on a case or a household, kept inside the city and shown on its page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cases.models import Case
from grids import geo
from grids.registry.models import Household
from tests.conftest import PASSWORD
from tests.registry.conftest import people  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

RUIAN = [120.15, 27.6, 121.2, 27.95]


def web(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_position_check_keeps_points_in_the_city_and_refuses_the_rest():
    assert geo.position_check(extent=RUIAN, latitude="27.7812346", longitude=120.65) == (
        Decimal("27.781235"),
        Decimal("120.650000"),
    )
    assert geo.position_check(extent=RUIAN, latitude=None, longitude="") == (None, None)
    for lat, lng in [(39.9, 116.4), (120.65, 27.78), (27.78, None), ("north", 120.6), ("nan", "inf")]:
        with pytest.raises(ValidationError):
            geo.position_check(extent=RUIAN, latitude=lat, longitude=lng)
    # A city without a recorded extent: anywhere in China, not the other side of the world.
    assert geo.position_check(extent=None, latitude=39.9, longitude=116.4)[0] == Decimal("39.900000")
    with pytest.raises(ValidationError):
        geo.position_check(extent=None, latitude=48.85, longitude=2.35)


CASE = {
    "kind": "hazard",
    "sub_kind": "fire",
    "source": "patrol",
    "severity": "general",
    "title": "楼道堆放杂物",
}


def test_a_case_takes_the_phones_position_and_shows_it(cast):
    client = web(cast.village_member)
    data = {**CASE, "node": cast.plot_a1.pk, "latitude": "27.781200", "longitude": "120.652300"}
    response = client.post(reverse("cases:new"), data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.latitude, case.longitude) == (Decimal("27.781200"), Decimal("120.652300"))
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "27.781200, 120.652300" in page and "geo:27.781200,120.652300" in page


def test_a_position_far_outside_the_city_is_refused_with_a_message(cast):
    client = web(cast.village_member)
    data = {**CASE, "node": cast.plot_a1.pk, "latitude": "39.904200", "longitude": "116.407400"}
    response = client.post(reverse("cases:new"), data)
    assert response.status_code == 400 and not Case.objects.exists()
    assert "远在本市范围之外" in response.content.decode()
    half = client.post(reverse("cases:new"), {**data, "longitude": ""})
    assert half.status_code == 400 and "请同时填写纬度和经度" in half.content.decode()
    assert not Case.objects.exists()


def test_a_county_keeps_its_own_extent(cast):
    """平阳县's point is outside 瑞安市 and refused there, but fine for the county's own cases."""
    point = {"latitude": "27.400000", "longitude": "120.500000"}
    refused = web(cast.village_member).post(reverse("cases:new"), {**CASE, "node": cast.plot_a1.pk, **point})
    assert refused.status_code == 400
    ok = web(cast.other_tenant_admin).post(
        reverse("cases:new"), {**CASE, "node": cast.other_plot.pk, **point}
    )
    assert ok.status_code == 302 and Case.objects.get().tenant_id == cast.pingyang.pk


def test_a_household_takes_a_position_and_shows_it(cast, people):
    client = web(cast.township_a_admin)
    url = reverse("registry:household_edit", args=[people.h1.pk])
    refused = client.post(url, {"address": "九三村1号", "latitude": "31.23", "longitude": "121.47"})
    assert refused.status_code == 200 and "远在本市范围之外" in refused.content.decode()
    assert Household.objects.get(pk=people.h1.pk).latitude is None
    client.post(url, {"address": "九三村1号", "latitude": "27.79", "longitude": "120.64", "tags": [1]})
    household = Household.objects.get(pk=people.h1.pk)
    assert (household.latitude, household.longitude) == (Decimal("27.790000"), Decimal("120.640000"))
    page = client.get(reverse("registry:household", args=[people.h1.pk])).content.decode()
    assert "27.790000, 120.640000" in page
    # Out of scope: another township's staff cannot edit it (404), nothing changes.
    assert web(cast.township_b_staff).post(url, {"latitude": "27.7", "longitude": "120.6"}).status_code == 404


def test_forms_offer_the_position_button(cast, people):
    page = web(cast.township_a_admin).get(reverse("registry:household_edit", args=[people.h1.pk]))
    body = page.content.decode()
    assert "data-geolocate" in body and 'data-geo="latitude"' in body and "使用当前位置" in body
