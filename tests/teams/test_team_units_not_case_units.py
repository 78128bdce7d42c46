"""Service teams and leadership groups are not units a case is sent to: their people work through
their office, so the cases' unit choices and directory leave them out."""

from __future__ import annotations

import pytest

from cases import selectors as case_selectors
from teams import services

pytestmark = pytest.mark.django_db


def test_teams_and_leadership_groups_are_not_case_units(cast, field, client):
    office = services.unit_create(
        actor=cast.city_admin,
        tenant_id=cast.ruian.pk,
        kind="cell_office",
        code="office-jiusan",
        name="九三村综治工作室",
        node=cast.cell_a1,
    )
    group = services.unit_create(
        actor=cast.city_admin,
        tenant_id=cast.ruian.pk,
        kind="leadership_group",
        code="lg-city",
        name="市平安建设领导小组",
        node=cast.city,
    )
    choices = set(case_selectors.unit_choices(cast.township_a_staff).values_list("pk", flat=True))
    assert office.pk in choices
    assert field.team.pk not in choices and group.pk not in choices
    assert case_selectors.unit_get(cast.township_a_staff, field.team.pk) is None
    assert case_selectors.unit_get(cast.township_a_staff, office.pk) == office
    client.force_login(cast.township_a_staff)
    names = {u["name"] for u in client.get("/api/v1/units/").json()["results"]}
    assert (
        "九三村综治工作室" in names
        and "九三村平安和谐服务队" not in names
        and "市平安建设领导小组" not in names
    )
