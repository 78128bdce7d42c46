"""Wrong types and out-of-range numbers are a clear 400 in Chinese, never a 500."""

import pytest
from rest_framework.test import APIClient

from cases import services as case_services


@pytest.fixture
def api(cast):
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    return client


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/registry/residents/?household=99999999999999999999", "household"),
        ("/api/v1/registry/dwellings/?building=-1", "building"),
        ("/api/v1/registry/access-log/?actor=1.5", "actor"),
        ("/api/v1/grids/?parent=1e20", "parent"),
        ("/api/v1/cases/?node=1e20", "node"),
    ],
)
def test_an_id_filter_that_is_not_a_key_sized_whole_number_is_a_400_naming_it(cast, api, url, param):
    response = api.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    message = response.json()[param][0]
    assert "编号" in message or "整数" in message or "数字" in message


def test_the_same_filter_with_a_real_id_answers_200(cast, api):
    assert api.get(f"/api/v1/registry/households/?plot={cast.plot_a1.pk}").status_code == 200
    assert len(api.get(f"/api/v1/grids/?parent={cast.township_a.pk}").json()["results"]) == 2


def test_a_huge_id_in_a_request_body_is_a_400(cast, api):
    response = api.post(
        "/api/v1/cases/",
        {"node": 10**20, "kind": "dispute", "source": "visit", "title": "纠纷"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "node" in response.json()


def test_a_missing_row_is_a_404_in_chinese_without_naming_the_model(cast, api):
    response = api.get("/api/v1/registry/households/99999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert "Household" not in response.content.decode()
    assert response.json()["detail"] == "未找到。"


def test_a_case_without_a_responsible_person_shows_null_names(cast, api):
    case = case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="dispute", source="visit", title="宅基地边界纠纷"
    )
    row = api.get("/api/v1/cases/").json()["results"][0]
    assert row["id"] == case.pk
    assert row["responsible_person_name"] is None and row["responsible_unit_name"] is None
    detail = api.get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["responsible_person_name"] is None and detail["satisfaction"] == ""
    timeline = api.get(f"/api/v1/cases/{case.pk}/timeline/").json()
    assert isinstance(timeline, list) and timeline[0]["actor_name"] == str(cast.village_member)


def test_grid_lists_and_ancestors_carry_every_documented_count(cast, api):
    for node in api.get("/api/v1/grids/").json()["results"]:
        assert {"cell_count", "plot_count", "household_count"} <= node.keys()
    ancestors = api.get(f"/api/v1/grids/{cast.plot_a1.pk}/ancestors/").json()
    assert isinstance(ancestors, list) and ancestors[0]["household_count"] is None
