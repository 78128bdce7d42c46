"""Pairings (百家单位联百村、百名干警联百户): who may make them, visits made under them, the township's
page and API with visit counts this month."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from grids.models import Household
from teams import selectors, services
from teams.models import Pairing, PairingKind, Unit, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def police(cast) -> Unit:
    unit = services.unit_create(
        actor=cast.city_admin, tenant_id=cast.ruian.pk, kind="department", code="police", name="市公安局"
    )
    services.membership_add(actor=cast.city_admin, unit=unit, user=cast.department_user)
    return unit


def _visit(client, household, **extra):
    body = {
        "client_id": str(extra.pop("client_id", uuid.uuid4())),
        "household": household.pk,
        "visited_on": extra.pop("visited_on", timezone.localdate().isoformat()),
        "seen": "入户走访",
        "outcome": "routine",
        **extra,
    }
    return client.post("/api/v1/visits/", body)


def test_an_officer_paired_with_a_household_visits_it_without_a_service_team(cast, field, client):
    officer = cast.department_user  # no grid grant, no team
    client.force_login(officer)
    assert _visit(client, field.elsewhere).json() == {"household": ["该户不在您负责的片格内。"]}
    pairing = services.pairing_create(actor=cast.township_a_staff, officer=officer, household=field.elsewhere)
    response = _visit(client, field.elsewhere)
    assert response.status_code == 201, response.json()
    visit = Visit.objects.get(pk=response.json()["id"])
    assert (visit.pairing_id, visit.assignment_id, visit.plot_id) == (pairing.pk, None, cast.plot_a2.pk)
    # Only the paired household: the one next door is still refused, nothing stored.
    assert _visit(client, field.mine[0]).status_code == 400
    assert Visit.objects.count() == 1


def test_a_member_of_a_unit_paired_with_a_village_visits_its_households(cast, field, police, client):
    services.pairing_create(actor=cast.township_a_admin, unit=police, cell=cast.cell_a1)
    client.force_login(cast.department_user)
    assert _visit(client, field.elsewhere).status_code == 201
    assert _visit(client, field.linbei).status_code == 400  # another township's village
    assert Visit.objects.filter(visitor=cast.department_user).count() == 1


def test_an_ended_pairing_no_longer_lets_the_officer_visit(cast, field, client):
    pairing = services.pairing_create(
        actor=cast.township_a_staff, officer=cast.department_user, household=field.elsewhere
    )
    services.pairing_end(actor=cast.township_a_staff, pairing=pairing)
    client.force_login(cast.department_user)
    assert _visit(client, field.elsewhere).status_code == 400
    assert not Visit.objects.exists()


def test_pairing_visits_count_the_same_way_as_team_visits(cast, field, client):
    services.pairing_create(
        actor=cast.township_a_staff, officer=cast.department_user, household=field.mine[1]
    )
    client.force_login(cast.department_user)
    assert _visit(client, field.mine[1]).status_code == 201
    [plot] = selectors.my_assignments(actor=field.member)
    assert plot.visited_this_month == 1  # the plot's member sees the officer's visit counted
    due = {h.pk for h in selectors.my_due_households(actor=field.member)}
    assert field.mine[1].pk not in due


def test_another_townships_staff_cannot_make_a_pairing_here(cast, field, police):
    with pytest.raises(ValidationError) as exc:
        services.pairing_create(actor=cast.township_b_staff, unit=police, cell=cast.cell_a1)
    assert exc.value.messages == ["您无权在此建立结对。"]
    assert not Pairing.objects.exists()
    services.pairing_create(actor=cast.township_a_staff, unit=police, cell=cast.cell_a1)
    assert Pairing.objects.get().kind == PairingKind.UNIT_VILLAGE


def test_a_village_member_cannot_make_pairings(cast, field, police):
    with pytest.raises(ValidationError):
        services.pairing_create(
            actor=cast.village_member, officer=cast.department_user, household=field.mine[0]
        )
    assert not Pairing.objects.exists()


def test_a_pairing_made_twice_is_refused_in_chinese(cast, field, police):
    services.pairing_create(actor=cast.township_a_staff, unit=police, cell=cast.cell_a1)
    with pytest.raises(ValidationError) as exc:
        services.pairing_create(actor=cast.township_a_staff, unit=police, cell=cast.cell_a1)
    assert exc.value.messages == ["该结对已经存在。"]
    assert Pairing.objects.count() == 1


def test_a_service_team_is_not_paired_with_a_village(cast, field):
    with pytest.raises(ValidationError) as exc:
        services.pairing_create(actor=cast.city_admin, unit=field.team, cell=cast.cell_b1)
    assert exc.value.message_dict["unit"] == ["请选择部门或单位，而不是服务队或领导小组。"]


def test_pairings_api_is_scoped_and_creates_through_the_service(cast, field, police, client):
    body = {"officer": cast.department_user.pk, "household": field.elsewhere.pk, "note": "每月走访一次"}
    client.force_login(cast.township_b_staff)
    assert client.post("/api/v1/pairings/", body, content_type="application/json").status_code == 404
    assert not Pairing.objects.exists()
    client.force_login(cast.township_a_staff)
    response = client.post("/api/v1/pairings/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["household_number"] == "A2-1"
    pk = response.json()["id"]
    client.force_login(cast.township_b_staff)
    assert client.get(f"/api/v1/pairings/{pk}/").status_code == 404
    assert client.get("/api/v1/pairings/").json()["results"] == []
    client.force_login(cast.township_a_staff)
    assert client.get(f"/api/v1/pairings/{pk}/").json()["visits_this_month"] == 0
    client.force_login(cast.department_user)
    assert [p["id"] for p in client.get("/api/v1/pairings/mine/").json()] == [pk]


def _pairings_with_visits(cast, field, police, n: int) -> None:
    services.pairing_create(actor=cast.city_admin, unit=police, cell=cast.cell_a1)
    for i in range(n):
        from grids.registry import services as registry

        household = registry.household_create(actor=cast.city_admin, plot=cast.plot_a2, number=f"A2-P{i}")
        Household.objects.filter(pk=household.pk).update(created_at=timezone.now() - dt.timedelta(days=90))
        officer = cast.department_user
        services.pairing_create(actor=cast.city_admin, officer=officer, household=household)
        services.visit_record(
            actor=officer, client_id=uuid.uuid4(), household_id=household.pk, visited_on=timezone.localdate()
        )
        # Last month's visit is not counted this month.
        services.visit_record(
            actor=officer,
            client_id=uuid.uuid4(),
            household_id=household.pk,
            visited_on=timezone.localdate().replace(day=1) - dt.timedelta(days=1),
        )


@pytest.mark.parametrize("n", [1, 5])
def test_the_township_pairing_page_runs_a_constant_number_of_queries(
    cast, field, police, client, n, django_assert_max_num_queries
):
    _pairings_with_visits(cast, field, police, n)
    client.force_login(cast.township_a_staff)
    client.get("/api/v1/teams/")  # warm the session
    # user (the session comes from the cache); the grants (view_gridnode); the node in scope; the
    # figures (one aggregate); the pairings with their visits this month; the header's unread inbox count.
    with django_assert_max_num_queries(6):
        response = client.get(f"/teams/pairings/{cast.township_a.pk}/")
    assert response.status_code == 200
    page = response.context["pp"]
    assert (page.unit_villages, page.officer_households, page.visits_this_month) == (1, n, n)
    assert sorted(p.visits_this_month for p in page.pairings) == [0] + [1] * n


def test_the_pairing_page_of_another_township_is_a_404(cast, field, police, client):
    client.force_login(cast.township_b_staff)
    assert client.get(f"/teams/pairings/{cast.township_a.pk}/").status_code == 404
    client.force_login(cast.township_a_staff)
    assert client.get(f"/teams/pairings/{cast.township_a.pk}/").status_code == 200
