# ruff: noqa: F811 - fixtures imported from the apps' conftest files are redefined as arguments
"""Pickers that scale: the grid type-ahead, the admin's autocomplete, list filters by name, the
responsible person narrowed to the chosen unit, the sub-kind to the kind, residents as parties."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import KIND_SUBKINDS, Case
from grids import tree
from grids.models import Kind
from tests.cases.conftest import case_a1, units  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.registry.conftest import people  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def web(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def search(user, **params):
    return web(user).get(reverse("grids:node_search"), params)


def names(response) -> list[str]:
    assert response.status_code == 200
    return [r["name"] for r in response.json()["results"]]


# --- the grid picker's type-ahead -------------------------------------------------------------------


def test_grid_search_finds_by_name_and_code_inside_scope_only(cast):
    assert names(search(cast.township_a_staff, q="九三")) == ["九三村", "九三村第一片", "九三村第二片"]
    assert names(search(cast.township_a_staff, q=cast.cell_a2.code)) == ["上望社区", "上望社区第一片"]
    # Another township's and another city's grids never come back, by name or by code.
    assert names(search(cast.township_a_staff, q="林北")) == []
    assert names(search(cast.township_a_staff, q=cast.plot_b1.code)) == []
    assert names(search(cast.township_a_staff, q="新东")) == []
    # The same requests by someone entitled to see them.
    assert names(search(cast.township_b_staff, q="林北")) == ["林北村", "林北村第一片"]
    assert names(search(cast.other_tenant_admin, q="新东")) == ["新东村", "新东村第一片"]


def test_grid_search_by_level_and_right(cast):
    assert names(search(cast.city_admin, q="第一片", level="3")) == [
        "九三村第一片",
        "上望社区第一片",
        "林北村第一片",
    ]
    assert names(search(cast.city_admin, q="3303", level="1")) == ["上望街道", "塘下镇"]
    # A right the picker does not know is no right at all.
    assert names(search(cast.city_admin, q="九三", perm="delete_everything")) == []
    result = search(cast.village_member, q="九三", perm="record_case").json()["results"][0]
    assert result == {
        "id": cast.cell_a1.pk,
        "name": "九三村",
        "code": cast.cell_a1.code,
        "level": "村居（社区、企业）小格",
        "kind": "村居",
        "parent": "上望街道",
    }


def test_grid_search_is_capped_with_constant_queries(cast, django_assert_max_num_queries):
    for i in range(30):
        tree.node_create(parent=cast.cell_a1, kind=Kind.PLOT, code=f"JS-P{i:02d}", name=f"九三村加片{i}")
    client = web(cast.township_a_staff)
    # user, grants, the nodes with their parents; the session comes from the cache
    with django_assert_max_num_queries(3):
        body = client.get(reverse("grids:node_search"), {"q": "加片"}).json()
    assert len(body["results"]) == 20 and body["capped"] is True


def test_grid_search_needs_sign_in_and_survives_bad_input(cast):
    assert Client().get(reverse("grids:node_search"), {"q": "九三"}).status_code == 302
    client = web(cast.city_admin)
    for q in ("x" * 10_000, "'; DROP TABLE grids_gridnode; --", "<script>alert(1)</script>", ""):
        response = client.get(reverse("grids:node_search"), {"q": q, "level": "9,a,-1"})
        assert response.status_code == 200 and response.json()["results"] == []


# --- the admin's autocomplete ----------------------------------------------------------------------


def autocomplete(user, model_name, field_name, term=""):
    client = web(user)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "grids" if model_name == "gridnode" else "teams", "model_name": model_name,
         "field_name": field_name, "term": term},
    )  # fmt: skip
    return response


def test_admin_autocomplete_never_offers_another_townships_nodes(cast):
    response = autocomplete(cast.township_a_admin, "gridnode", "parent")
    assert response.status_code == 200
    offered = {r["text"] for r in response.json()["results"]}
    # Their township and its cells; plots are no parents.
    assert offered == {str(cast.township_a), str(cast.cell_a1), str(cast.cell_a2)}
    assert not any("林北" in t or "新东" in t for t in offered)
    # The city's administrator, entitled to both townships, gets both.
    city = {r["text"] for r in autocomplete(cast.city_admin, "gridnode", "parent", "村").json()["results"]}
    assert str(cast.cell_b1) in city and not any("新东" in t for t in city)
    # A person's home node: the same scope.
    homes = {
        r["text"] for r in autocomplete(cast.township_a_admin, "user", "home_node", "林").json()["results"]
    }
    assert homes == set()


def test_admin_grid_form_uses_the_autocomplete_widget(cast):
    page = web(cast.township_a_admin).get("/admin/grids/gridnode/add/").content.decode()
    assert "admin-autocomplete" in page
    assert "林北村" not in page  # no dropdown of every node in the page


# --- list filters by name ---------------------------------------------------------------------------


def test_registry_list_filters_take_names_and_codes(cast, people):
    client = web(cast.city_admin)

    def numbers(**params):
        return sorted(
            h.number for h in client.get(reverse("registry:households"), params).context["page_obj"]
        )

    assert numbers(plot="九三村第一片") == ["JS-0001", "JS-0002"]
    assert numbers(township="塘下镇") == ["LB-0001"]
    assert numbers(cell=cast.cell_b1.code) == ["LB-0001"]
    assert numbers(township="九三村") == []  # a cell's name is no township
    # Out of scope: a township staff member naming the other township gets nothing.
    staff = web(cast.township_a_staff)
    assert list(staff.get(reverse("registry:households"), {"township": "塘下镇"}).context["page_obj"]) == []


def test_case_list_filter_by_grid_name(cast, units):
    from tests.cases.conftest import record

    a = record(cast)
    b = record(cast, node=cast.plot_a3, actor=cast.township_a_staff)
    client = web(cast.township_a_staff)
    listed = client.get(reverse("cases:list"), {"grid": "上望社区"}).context["cases"]
    assert [c["id"] for c in listed] == [b.pk]
    listed = client.get(reverse("cases:list"), {"grid": cast.plot_a1.code}).context["cases"]
    assert [c["id"] for c in listed] == [a.pk]
    response = client.get(reverse("cases:list"), {"grid": "林北村"})
    assert "没有名为“林北村”的网格" in response.content.decode()


# --- dependent lists --------------------------------------------------------------------------------


def test_record_form_carries_the_subkinds_of_each_kind_and_a_camera_input(cast):
    page = web(cast.village_member).get(reverse("cases:new")).content.decode()
    start = page.index("data-kind-map=")
    raw = page[start:].split('"', 2)[1] if page[start + 14] == '"' else page[start:].split("'", 2)[1]
    import html

    assert json.loads(html.unescape(raw)) == {k: list(v) for k, v in KIND_SUBKINDS.items()}
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    assert 'data-picker="id"' in page and '<option value="' + str(cast.plot_b1.pk) not in page


def test_unit_people_lists_one_units_members_of_the_users_city_only(cast, units):
    client = web(cast.township_a_staff)
    url = reverse("cases:unit_people")
    assert client.get(url, {"unit": units.police.pk}).json()["results"] == [
        {"id": cast.department_user.pk, "name": str(cast.department_user)}
    ]
    assert client.get(url, {"unit": units.pingyang_police.pk}).json()["results"] == []
    assert client.get(url, {"unit": "x"}).json()["results"] == []
    # The other city's administrator is entitled to their own police's people (none yet) but not ours.
    assert web(cast.other_tenant_admin).get(url, {"unit": units.police.pk}).json()["results"] == []


def test_dispatch_form_lists_only_the_current_units_people(cast, units, case_a1):  # noqa: F811
    page = web(cast.township_a_staff).get(reverse("cases:detail", args=[case_a1.pk])).content.decode()
    assert 'data-people-of="dispatch-responsible_unit"' in page
    # No unit yet: nobody is listed until a unit is chosen.
    assert (
        str(cast.department_user)
        not in page.split('name="dispatch-responsible_person"')[1].split("</select>")[0]
    )


# --- residents as parties, "record a case here" ------------------------------------------------------


def test_resident_pick_is_scoped_and_never_shows_numbers(cast, people):
    url = reverse("registry:resident_pick")
    body = web(cast.township_a_staff).get(url, {"q": "林"}).json()
    assert body["results"] == [
        {"id": people.r1.pk, "name": "林阿婆", "household": "JS-0001", "plot": "九三村第一片"}
    ]
    assert web(cast.township_a_staff).get(url, {"q": "张"}).json()["results"] == []  # 张小芳 is in Tangxia
    assert [r["name"] for r in web(cast.township_b_staff).get(url, {"q": "张"}).json()["results"]] == [
        "张小芳"
    ]
    raw = web(cast.city_admin).get(url, {"q": "林"}).content.decode()
    assert people.r1.id_number_masked not in raw and "phone" not in raw


def test_record_a_case_here_prefills_the_household(cast, people):
    client = web(cast.village_member)
    household_page = client.get(reverse("registry:household", args=[people.h1.pk])).content.decode()
    assert f"{reverse('cases:new')}?household={people.h1.pk}" in household_page
    form = client.get(reverse("cases:new"), {"household": people.h1.pk}).context["form"]
    assert form.initial["node"] == cast.plot_a1.pk
    assert form.initial["residents"] == [people.r1.pk]
    assert form.initial["address"] == "九三村1号"
    page = client.get(reverse("cases:new"), {"household": people.h1.pk}).content.decode()
    assert "林阿婆 (JS-0001)" in page and "九三村第一片" in page
    # Another township's household prefills nothing.
    other = client.get(reverse("cases:new"), {"household": people.h3.pk})
    assert other.status_code == 200 and other.context["form"].initial == {}


def test_recording_with_registered_and_free_text_parties(cast, people):
    client = web(cast.village_member)
    data = {
        "node": cast.plot_a1.pk,
        "kind": "dispute",
        "sub_kind": "neighbour",
        "source": "visit",
        "severity": "general",
        "title": "宅基地边界纠纷",
        "residents": [people.r1.pk],
        "parties": "王五, 邻居",
    }
    # A resident outside the member's village is refused; nothing is stored.
    refused = client.post(reverse("cases:new"), {**data, "residents": [people.r3.pk]})
    assert refused.status_code == 400 and not Case.objects.exists()
    response = client.post(reverse("cases:new"), data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.parties[0]["name"] == "林阿婆" and case.parties[0]["resident"] == people.r1.pk
    assert case.parties[1] == {"name": "王五", "role": "邻居"}
    assert "id_number" not in json.dumps(case.parties)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("registry:resident", args=[people.r1.pk]) in page and "王五" in page


def test_api_grid_filters_take_names_and_refuse_overlong_ones(cast, people):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(cast.city_admin)
    url = "/api/v1/registry/households/"
    assert [h["number"] for h in api.get(url, {"township": "塘下镇"}).json()["results"]] == ["LB-0001"]
    # A number that is no code and no id in scope, or SQL, is a name matching nothing: 200, no rows.
    for name in ("1e20", "99999999999999999999", "'; DROP TABLE grids_household; --"):
        response = api.get(url, {"plot": name})
        assert response.status_code == 200 and response.json()["results"] == []
    response = api.get(url, {"plot": "九" * 10_000}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and "100" in response.json()["plot"][0]
