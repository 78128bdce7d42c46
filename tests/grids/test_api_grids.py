"""/api/v1/grids/: scoped lists and details, children and ancestors, writes with clear 400s."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from grids import tree
from grids.models import GridNode, Kind
from grids.registry.services import household_create
from tests.conftest import PASSWORD


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_is_refused(cast):
    assert APIClient().get("/api/v1/grids/").status_code in (401, 403)


def test_township_staff_lists_only_their_township(cast):
    response = client_for(cast.township_a_staff).get("/api/v1/grids/")
    assert response.status_code == 200
    assert ids(response) == {
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.cell_a2.pk,
        cast.plot_a1.pk,
        cast.plot_a2.pk,
        cast.plot_a3.pk,
    }


def test_filters_level_kind_parent_and_search(cast):
    client = client_for(cast.city_admin)
    assert ids(client.get("/api/v1/grids/", {"level": 1})) == {cast.township_a.pk, cast.township_b.pk}
    assert ids(client.get("/api/v1/grids/", {"kind": "community"})) == {cast.cell_a2.pk}
    assert ids(client.get("/api/v1/grids/", {"parent": cast.cell_a1.pk})) == {
        cast.plot_a1.pk,
        cast.plot_a2.pk,
    }
    assert ids(client.get("/api/v1/grids/", {"search": "九三"})) == {
        cast.cell_a1.pk,
        cast.plot_a1.pk,
        cast.plot_a2.pk,
    }
    assert ids(client.get("/api/v1/grids/", {"search": "330381101"})) == {
        cast.township_b.pk,
        cast.cell_b1.pk,
        cast.plot_b1.pk,
    }
    assert client.get("/api/v1/grids/", {"level": 7}).status_code == 400


def test_list_is_paginated_by_keyset_in_tree_order(cast):
    client = client_for(cast.city_admin)
    body = client.get("/api/v1/grids/", {"page_size": 2}).json()
    assert set(body) == {"next", "previous", "results"} and body["previous"] is None
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        assert body["previous"] is not None
        seen += [row["id"] for row in body["results"]]
    in_order = GridNode.objects.filter(tenant=cast.ruian).order_by("tree_id", "lft")
    assert seen == list(in_order.values_list("pk", flat=True))
    back = client.get(body["previous"]).json()
    assert [row["id"] for row in back["results"]] == seen[-len(body["results"]) - 2 : -len(body["results"])]
    assert client.get("/api/v1/grids/", {"cursor": "not-a-cursor"}).status_code == 404


def test_detail_children_and_ancestors(cast):
    household_create(actor=cast.city_admin, plot=cast.plot_a1, number="H1")  # counted in the plot's tally
    client = client_for(cast.township_a_staff)
    detail = client.get(f"/api/v1/grids/{cast.cell_a1.pk}/").json()
    assert detail["kind"] == "village" and detail["code"] == cast.cell_a1.code
    assert (detail["plot_count"], detail["household_count"]) == (2, 1)
    children = client.get(f"/api/v1/grids/{cast.township_a.pk}/children/").json()["results"]
    by_id = {c["id"]: c for c in children}
    assert set(by_id) == {cast.cell_a1.pk, cast.cell_a2.pk}
    assert (by_id[cast.cell_a1.pk]["plot_count"], by_id[cast.cell_a1.pk]["household_count"]) == (2, 1)
    # Ancestors stop at what the user may see: the township, not the city above it.
    ancestors = client.get(f"/api/v1/grids/{cast.plot_a1.pk}/ancestors/").json()
    assert [a["id"] for a in ancestors] == [cast.township_a.pk, cast.cell_a1.pk]


def test_other_township_and_other_tenant_ids_are_404(cast):
    client = client_for(cast.township_a_staff)
    for node in (cast.cell_b1, cast.other_cell, cast.city):
        assert client.get(f"/api/v1/grids/{node.pk}/").status_code == 404
        assert client.get(f"/api/v1/grids/{node.pk}/children/").status_code == 404
    assert client.get("/api/v1/grids/999999/").status_code == 404
    # The refusal was about scope: an entitled user gets the same node.
    assert client_for(cast.township_b_staff).get(f"/api/v1/grids/{cast.cell_b1.pk}/").status_code == 200


def test_other_tenant_admin_never_sees_ruian(cast):
    response = client_for(cast.other_tenant_admin).get("/api/v1/grids/", {"page_size": 100})
    assert ids(response) == set(GridNode.objects.filter(tenant=cast.pingyang).values_list("pk", flat=True))
    assert client_for(cast.other_tenant_admin).get(f"/api/v1/grids/{cast.city.pk}/").status_code == 404


def test_token_authentication(cast):
    token = Token.objects.create(user=cast.township_b_staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ids(client.get("/api/v1/grids/")) == {cast.township_b.pk, cast.cell_b1.pk, cast.plot_b1.pk}
    obtained = APIClient().post("/api/v1/auth/token/", {"username": "tangxia_staff", "password": PASSWORD})
    assert obtained.status_code == 200 and obtained.json()["token"] == token.key


def test_township_admin_adds_a_village_in_their_township(cast):
    response = client_for(cast.township_a_admin).post(
        "/api/v1/grids/",
        {"parent": cast.township_a.pk, "kind": "village", "code": "330381005202", "name": "新建村"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    node = GridNode.objects.get(code="330381005202")
    assert (node.parent_id, node.level, node.tenant_id) == (cast.township_a.pk, 2, cast.ruian.pk)
    assert tree.tree_is_valid(cast.ruian)


def test_staff_without_manage_grid_may_not_add(cast):
    before = GridNode.objects.count()
    response = client_for(cast.township_a_staff).post(
        "/api/v1/grids/",
        {"parent": cast.township_a.pk, "kind": "village", "code": "X2", "name": "无权村"},
        format="json",
    )
    assert response.status_code == 403
    assert GridNode.objects.count() == before


def test_township_admin_cannot_add_in_another_township(cast):
    before = GridNode.objects.count()
    response = client_for(cast.township_a_admin).post(
        "/api/v1/grids/",
        {"parent": cast.township_b.pk, "kind": "village", "code": "X3", "name": "越权村"},
        format="json",
    )
    assert response.status_code == 400 and "parent" in response.json()
    assert GridNode.objects.count() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "town"}, "kind"),
        ({"kind": "castle"}, "kind"),
        ({"code": "330381101201"}, "code"),  # already used by 林北村
        ({"code": "bad code!"}, "code"),
        ({"boundary": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}}, "boundary"),
        ({"name": ""}, "name"),
        ({"parent": "abc"}, "parent"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(cast, payload, field):
    body = {
        "parent": cast.township_a.pk,
        "kind": "village",
        "code": "330381005299",
        "name": "好村",
        **payload,
    }
    before = GridNode.objects.count()
    response = client_for(cast.city_admin).post("/api/v1/grids/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert GridNode.objects.count() == before


def test_parent_in_another_tenant_is_a_400_without_details(cast):
    response = client_for(cast.city_admin).post(
        "/api/v1/grids/",
        {"parent": cast.other_township.pk, "kind": "village", "code": "X4", "name": "外村"},
        format="json",
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    assert "鳌江" not in response.content.decode()


def test_edit_and_move_and_delete(cast):
    client = client_for(cast.city_admin)
    response = client.patch(f"/api/v1/grids/{cast.plot_a1.pk}/", {"name": "九三村东片"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "九三村东片"
    response = client.post(
        f"/api/v1/grids/{cast.plot_a1.pk}/move/", {"parent": cast.cell_b1.pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["parent"] == cast.cell_b1.pk
    assert client.delete(f"/api/v1/grids/{cast.cell_b1.pk}/").status_code == 400  # has children
    assert client.delete(f"/api/v1/grids/{cast.plot_a2.pk}/").status_code == 204
    assert tree.tree_is_valid(cast.ruian)


def test_responsible_must_belong_to_the_city(cast):
    client = client_for(cast.city_admin)
    response = client.patch(
        f"/api/v1/grids/{cast.cell_a1.pk}/", {"responsible": cast.other_tenant_admin.pk}, format="json"
    )
    assert response.status_code == 400 and "responsible" in response.json()
    response = client.patch(
        f"/api/v1/grids/{cast.cell_a1.pk}/", {"responsible": cast.village_member.pk}, format="json"
    )
    assert response.json()["responsible"]["id"] == cast.village_member.pk


def test_a_plots_responsible_is_refused_here_and_set_by_assignment(cast):
    client = client_for(cast.city_admin)
    response = client.patch(
        f"/api/v1/grids/{cast.plot_a1.pk}/", {"responsible": cast.village_member.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "responsible": ["片格的负责人在片格的分工页面（人员与走访）设置，不能在网格编辑中修改。"]
    }
    assert GridNode.objects.get(pk=cast.plot_a1.pk).responsible_id is None
    # A new plot cannot be given one either; without it, it is created.
    body = {"parent": cast.cell_a1.pk, "kind": "plot", "code": "33038100520109", "name": "九三村第九片"}
    assert (
        client.post(
            "/api/v1/grids/", {**body, "responsible": cast.village_member.pk}, format="json"
        ).status_code
        == 400
    )
    assert client.post("/api/v1/grids/", body, format="json").status_code == 201
    # Other edits of a plot still pass.
    assert (
        client.patch(f"/api/v1/grids/{cast.plot_a1.pk}/", {"name": "九三村一片"}, format="json").status_code
        == 200
    )


def _grow(cast, villages):
    specs = [
        tree.NodeSpec(
            Kind.VILLAGE, f"G{i}", f"村{i}", children=[tree.NodeSpec(Kind.PLOT, f"G{i}P", f"村{i}片")]
        )
        for i in range(villages)
    ]
    tree.subtree_bulk_create(parent=cast.township_b, specs=specs)


@pytest.mark.parametrize("villages", [1, 40])
def test_list_and_children_cost_the_same_queries_whatever_the_size(
    cast, villages, django_assert_max_num_queries
):
    _grow(cast, villages)
    client = client_for(cast.city_admin)
    # 1 grants of the user, 1 page with counts as subqueries (no COUNT)
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/grids/").status_code == 200
    # 1 grants, 1 the node, 1 children with counts (no COUNT)
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/grids/{cast.township_b.pk}/children/").status_code == 200
    # 1 grants, 1 the node with counts, 1 household count
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/grids/{cast.township_b.pk}/").status_code == 200


def test_openapi_schema_and_docs_are_served_without_a_cdn(cast, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/grids/{id}/children/" in schema.content
    client.force_login(cast.city_admin)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html
