"""No endpoint of the API shows another city's rows, whatever the app."""

import pytest
from rest_framework.test import APIClient

from cases import services as case_services
from grids.registry import services as registry_services
from grids.registry import synthetic
from ruian_grid.api_urls import router

RUIAN_MARKERS = ("330381", "上望", "九三村", "塘下", "林北村", "宅基地边界纠纷", "陈某某")


def list_routes():
    return sorted({prefix for prefix, _viewset, _basename in router.registry})


@pytest.fixture
def ruian_rows(cast):
    """A row of each kind in Ruian, made through the services as a Ruian user would."""
    household = registry_services.household_create(
        actor=cast.city_admin, plot=cast.plot_a1, number="R1", address="九三村1号"
    )
    registry_services.resident_create(
        actor=cast.city_admin,
        household=household,
        name="陈某某",
        id_number=synthetic.resident_id(1),
        phone=synthetic.mobile(1),
    )
    registry_services.building_create(actor=cast.city_admin, plot=cast.plot_a1, code="B1", name="九三村1幢")
    case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="dispute", source="visit", title="宅基地边界纠纷"
    )


@pytest.mark.parametrize("prefix", list_routes())
def test_another_city_admin_sees_nothing_of_ruian_on_any_list(cast, ruian_rows, prefix):
    client = APIClient()
    client.force_authenticate(cast.other_tenant_admin)
    response = client.get(f"/api/v1/{prefix}/")
    assert response.status_code in (200, 405), response.content[:300]
    body = response.content.decode()
    for marker in RUIAN_MARKERS:
        assert marker not in body, f"/api/v1/{prefix}/ shows Ruian data ({marker})"


def test_the_ruian_rows_do_show_to_the_ruian_city_admin(cast, ruian_rows):
    """The refusals above were about the city: the same lists show the rows at home."""
    client = APIClient()
    client.force_authenticate(cast.city_admin)
    shown = "".join(client.get(f"/api/v1/{prefix}/").content.decode() for prefix in list_routes())
    for marker in ("九三村", "宅基地边界纠纷", "陈某某"):
        assert marker in shown
