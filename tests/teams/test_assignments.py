"""A person on every plot: assignment rules, history, the grid node kept in step, coverage."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from grids.models import GridNode
from teams import selectors, services
from teams.models import PlotAssignment, User

pytestmark = pytest.mark.django_db


def test_reassigning_keeps_history_and_the_grid_node_follows(cast, field):
    services.plot_assign(actor=cast.township_a_admin, plot=cast.plot_a1, member=field.teammate)
    rows = list(PlotAssignment.objects.filter(plot=cast.plot_a1).order_by("started_at"))
    assert [r.member_id for r in rows] == [field.member.pk, field.teammate.pk]
    assert rows[0].ended_at is not None and rows[0].ended_at == rows[1].started_at
    assert rows[1].ended_at is None
    assert GridNode.objects.get(pk=cast.plot_a1.pk).responsible_id == field.teammate.pk


def test_one_open_assignment_per_plot_is_a_database_rule(cast, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlotAssignment.objects.create(
            tenant=cast.ruian,
            city=cast.city,
            township=cast.township_a,
            cell=cast.cell_a1,
            plot=cast.plot_a1,
            member=field.teammate,
            started_at=timezone.now(),
        )


def test_a_person_of_another_city_is_refused(cast, field):
    with pytest.raises(ValidationError) as exc:
        services.plot_assign(actor=None, plot=cast.plot_a2, member=cast.other_tenant_admin)
    assert exc.value.message_dict["member"] == ["此人属于其他城市。"]
    assert not PlotAssignment.objects.filter(plot=cast.plot_a2).exists()


def test_a_person_outside_the_cells_team_is_refused(cast, field):
    with pytest.raises(ValidationError) as exc:
        services.plot_assign(actor=cast.city_admin, plot=cast.plot_a2, member=cast.township_a_staff)
    assert exc.value.message_dict["member"] == ["该人员不是本片格所在村居服务队的成员。"]
    assert GridNode.objects.get(pk=cast.plot_a2.pk).responsible_id is None


def test_township_admin_of_another_township_cannot_assign(cast, field, client):
    client.force_login(cast.township_b_staff)
    body = {"plot": cast.plot_a2.pk, "member": field.teammate.pk}
    assert client.post("/api/v1/assignments/", body, content_type="application/json").status_code == 404
    client.force_login(cast.township_a_admin)
    response = client.post("/api/v1/assignments/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert PlotAssignment.objects.get(plot=cast.plot_a2, ended_at=None).member_id == field.teammate.pk


def test_a_village_member_without_the_assign_right_is_refused_with_a_message(cast, field, client):
    # Township staff hold `assign_plots` (tests/teams/test_assign_right.py); a village member does not.
    client.force_login(cast.village_member)
    body = {"plot": cast.plot_a2.pk, "member": field.teammate.pk}
    response = client.post("/api/v1/assignments/", body, content_type="application/json")
    assert response.status_code == 400
    assert "您无权为此片格指定人员" in str(response.json())
    assert not PlotAssignment.objects.filter(plot=cast.plot_a2).exists()


def test_coverage_of_a_township_and_its_gaps(cast, field, client):
    client.force_login(cast.township_a_staff)
    body = client.get(f"/api/v1/teams/coverage/?node={cast.township_a.pk}").json()
    assert (body["plots"], body["covered"], body["uncovered"]) == (3, 1, 2)
    assert body["percent"] == 33.3
    assert {p["id"] for p in body["uncovered_plots"]} == {cast.plot_a2.pk, cast.plot_a3.pk}
    assert [m["user"] for m in body["members_without_plot"]] == [field.teammate.pk]
    assert {c["name"]: (c["plots"], c["covered"]) for c in body["children"]} == {
        "九三村": (2, 1),
        "上望社区": (1, 0),
    }


def test_coverage_of_another_township_is_404_then_entitled_user_sees_it(cast, field, client):
    client.force_login(cast.township_b_staff)
    assert client.get(f"/api/v1/teams/coverage/?node={cast.township_a.pk}").status_code == 404
    client.force_login(cast.township_a_staff)
    assert client.get(f"/api/v1/teams/coverage/?node={cast.township_a.pk}").status_code == 200


def _more_plots(cast, field, n):
    """`n` more plots in Jiusan village, each with a member of the team responsible."""
    from grids import tree

    for i in range(n):
        plot = tree.node_create(parent=cast.cell_a1, kind="plot", code=f"3303810052019{i}", name=f"加片{i}")
        person = User.objects.create_user(username=f"extra{i}", tenant=cast.ruian)
        services.team_member_add(actor=None, team=field.team, user=person)
        services.plot_assign(actor=None, plot=plot, member=person)


@pytest.mark.parametrize("extra", [0, 6])
def test_coverage_runs_a_constant_number_of_queries(
    cast, field, client, extra, django_assert_max_num_queries
):
    _more_plots(cast, field, extra)
    client.force_login(cast.township_a_staff)
    client.get("/api/v1/teams/")  # warm the session
    # user (the session comes from the cache); the grants (view_gridnode); the node in scope; then
    # coverage: totals, plots without anyone, count and list of members without a plot, the children
    # with their figures.
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/teams/coverage/?node={cast.township_a.pk}")
    assert response.json()["plots"] == 3 + extra


def test_members_without_a_plot_and_teams_listed_in_scope(cast, field, client):
    client.force_login(cast.township_b_staff)
    names = [t["name"] for t in client.get("/api/v1/teams/").json()["results"]]
    assert names == ["林北村平安和谐服务队"]
    client.force_login(cast.township_a_staff)
    names = [t["name"] for t in client.get("/api/v1/teams/").json()["results"]]
    assert names == ["九三村平安和谐服务队"]


def test_team_member_added_through_the_api_within_scope(cast, field, client):
    person = User.objects.create_user(username="newbie", tenant=cast.ruian)
    client.force_login(cast.township_b_staff)
    url = f"/api/v1/teams/{field.team.pk}/members/"
    assert client.post(url, {"user": person.pk}, content_type="application/json").status_code == 404
    client.force_login(cast.township_a_admin)
    response = client.post(url, {"user": person.pk, "title": "队员"}, content_type="application/json")
    assert response.status_code == 200
    assert person.pk in [m["user"] for m in response.json()["members"]]
    assert selectors.assignable_members(plot=cast.plot_a2).filter(pk=person.pk).exists()
