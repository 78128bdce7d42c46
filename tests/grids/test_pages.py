"""Grid pages: sign-in, Chinese by default, breadcrumbs from the home node, counts, scope."""

import pytest
from django.urls import reverse

from grids import tree
from grids.models import Kind
from grids.registry.services import household_create
from grids.services import node_responsible_set
from tests.conftest import PASSWORD


def test_sign_in_page_is_chinese_by_default(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_english_is_available(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in client.get("/accounts/login/").content.decode()


def test_sign_in_lands_on_the_workbench_and_the_grid_is_one_click_away(client, cast):
    response = client.post(
        "/accounts/login/", {"username": "shangwang_staff", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "工作台" in response.content.decode()
    grid = client.get(reverse("grid_home"), follow=True)
    assert grid.redirect_chain[-1][0] == reverse("grids:node", args=[cast.township_a.pk])
    assert "上望街道" in grid.content.decode()


def test_anonymous_is_sent_to_sign_in(client, cast):
    response = client.get(reverse("grids:node", args=[cast.city.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_node_page_shows_kind_code_children_counts_and_responsible(client, cast):
    node_responsible_set(node=cast.plot_a1, user_id=cast.village_member.pk)  # as the assignment service does
    household_create(actor=cast.city_admin, plot=cast.plot_a1, number="H1")  # counted in the plot's tally
    client.force_login(cast.township_a_staff)
    html = client.get(reverse("grids:node", args=[cast.cell_a1.pk])).content.decode()
    assert "九三村" in html and "村居" in html and "村居（社区、企业）小格" in html  # name, kind, level
    assert cast.cell_a1.code in html
    assert "九三村第一片" in html and "九三村第二片" in html
    assert "九三村 林队员" in html  # the plot's responsible person
    page = client.get(reverse("grids:node", args=[cast.township_a.pk]))
    children = {c.pk: c for c in page.context["children"]}
    assert (children[cast.cell_a1.pk].plot_count, children[cast.cell_a1.pk].household_count) == (2, 1)


def test_breadcrumbs_stop_at_the_home_node(client, cast):
    client.force_login(cast.village_member)
    page = client.get(reverse("grids:node", args=[cast.plot_a1.pk]))
    assert [a.pk for a in page.context["ancestors"]] == [cast.cell_a1.pk]
    client.force_login(cast.city_admin)
    page = client.get(reverse("grids:node", args=[cast.plot_a1.pk]))
    assert [a.pk for a in page.context["ancestors"]] == [cast.city.pk, cast.township_a.pk, cast.cell_a1.pk]


def test_village_member_cannot_open_another_village(client, cast):
    client.force_login(cast.village_member)
    assert client.get(reverse("grids:node", args=[cast.cell_a2.pk])).status_code == 404
    assert client.get(reverse("grids:node", args=[cast.township_a.pk])).status_code == 404
    client.force_login(cast.township_a_staff)
    assert client.get(reverse("grids:node", args=[cast.cell_a2.pk])).status_code == 200


def test_other_tenant_pages_are_404(client, cast):
    client.force_login(cast.other_tenant_admin)
    assert client.get(reverse("grids:node", args=[cast.city.pk])).status_code == 404
    assert client.get(reverse("grids:node", args=[cast.other_city.pk])).status_code == 200


def test_department_user_without_a_grid_is_sent_from_the_grid_link_to_their_cases(client, cast):
    client.force_login(cast.department_user)
    response = client.get(reverse("grid_home"))
    assert response.status_code == 302 and response["Location"] == reverse("cases:list")
    client.force_login(cast.township_a_staff)
    assert client.get(reverse("grid_home"))["Location"] == reverse("grids:node", args=[cast.township_a.pk])


def test_page_is_made_for_phones(client, cast):
    client.force_login(cast.city_admin)
    html = client.get(reverse("grids:node", args=[cast.city.pk])).content.decode()
    assert 'name="viewport"' in html and "data-label=" in html


@pytest.mark.parametrize("villages", [1, 40])
def test_node_page_costs_the_same_queries_whatever_the_size(
    client, cast, villages, django_assert_max_num_queries
):
    specs = [tree.NodeSpec(Kind.VILLAGE, f"G{i}", f"村{i}") for i in range(villages)]
    tree.subtree_bulk_create(parent=cast.township_b, specs=specs)
    client.force_login(cast.city_admin)
    # user, grants, node with counts, children with counts, ancestors, household count, the header's
    # unread inbox count; the session comes from the cache
    with django_assert_max_num_queries(7):
        assert client.get(reverse("grids:node", args=[cast.township_b.pk])).status_code == 200
