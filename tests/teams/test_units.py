"""Responsible units (offices and departments) and their people."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from teams.models import Membership, Unit, UnitKind
from teams.services import membership_add, unit_create
from teams.units import unit_ids_of, units_visible

pytestmark = pytest.mark.django_db


def test_code_is_unique_in_a_city_not_across_cities(cast):
    unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="dept-police", name="公安")
    unit_create(actor=None, tenant_id=cast.pingyang.pk, kind="department", code="dept-police", name="公安")
    with pytest.raises(ValidationError):
        unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="dept-police", name="x")


def test_an_office_stands_at_a_grid_node(cast):
    with pytest.raises(ValidationError), transaction.atomic():
        unit_create(actor=None, tenant_id=cast.ruian.pk, kind=UnitKind.CELL_OFFICE, code="o", name="o")
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(tenant=cast.ruian, kind=UnitKind.CELL_OFFICE, code="o", name="o")


def test_office_node_must_be_in_the_city(cast):
    with pytest.raises(ValidationError):
        unit_create(
            actor=None,
            tenant_id=cast.ruian.pk,
            kind=UnitKind.CELL_OFFICE,
            code="o",
            name="o",
            node=cast.other_cell,
        )


def test_township_admin_creates_offices_only_in_their_township(cast):
    with pytest.raises(ValidationError):
        unit_create(
            actor=cast.township_a_admin,
            tenant_id=cast.ruian.pk,
            kind=UnitKind.CELL_OFFICE,
            code="o-b1",
            name="林北村综治工作室",
            node=cast.cell_b1,
        )
    with pytest.raises(ValidationError):  # departments are the city's
        unit_create(
            actor=cast.township_a_admin, tenant_id=cast.ruian.pk, kind="department", code="d", name="d"
        )
    unit = unit_create(
        actor=cast.township_a_admin,
        tenant_id=cast.ruian.pk,
        kind=UnitKind.CELL_OFFICE,
        code="o-a1",
        name="九三村综治工作室",
        node=cast.cell_a1,
    )
    assert unit.pk
    assert unit_create(actor=cast.city_admin, tenant_id=cast.ruian.pk, kind="department", code="d", name="d")


def test_membership_is_idempotent_and_stays_in_the_city(cast):
    police = unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="p", name="公安")
    membership_add(actor=None, unit=police, user=cast.department_user)
    membership_add(actor=None, unit=police, user=cast.department_user)
    assert Membership.objects.count() == 1
    assert unit_ids_of(cast.department_user) == {police.pk}
    with pytest.raises(ValidationError):
        membership_add(actor=None, unit=police, user=cast.other_tenant_admin)


def test_units_visible_are_the_users_city(cast):
    unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="p", name="公安")
    unit_create(actor=None, tenant_id=cast.pingyang.pk, kind="department", code="p", name="平阳公安")
    assert [o.name for o in units_visible(cast.township_b_staff)] == ["公安"]
    assert [o.name for o in units_visible(cast.other_tenant_admin)] == ["平阳公安"]


def test_admin_lists_only_own_city_units(cast):
    unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="p", name="瑞安公安")
    other = unit_create(actor=None, tenant_id=cast.pingyang.pk, kind="department", code="p", name="平阳公安")
    client = Client()
    client.force_login(cast.city_admin)
    body = client.get("/admin/teams/unit/").content.decode()
    assert "瑞安公安" in body and "平阳公安" not in body
    assert client.get(f"/admin/teams/unit/{other.pk}/change/").status_code in (302, 404)
    client.force_login(cast.other_tenant_admin)
    assert client.get(f"/admin/teams/unit/{other.pk}/change/").status_code == 200


def test_township_admin_cannot_add_a_department_in_the_admin(cast):
    client = Client()
    client.force_login(cast.township_a_admin)
    data = {
        "kind": "department",
        "code": "dept-x",
        "name": "某局",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/teams/unit/add/", data)
    assert response.status_code == 403 and not Unit.objects.exists()
    client.force_login(cast.city_admin)
    response = client.post("/admin/teams/unit/add/", data)
    assert response.status_code == 302, response.content[:2000]
    assert Unit.objects.get().tenant == cast.ruian


def test_admin_refuses_a_member_from_another_city(cast):
    police = unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="p", name="公安")
    client = Client()
    client.force_login(cast.city_admin)
    data = {"unit": police.pk, "user": cast.other_tenant_admin.pk, "role": "member"}
    response = client.post("/admin/teams/membership/add/", data)
    assert response.status_code == 200 and not Membership.objects.exists()  # the form shows the error
    data["user"] = cast.department_user.pk
    assert client.post("/admin/teams/membership/add/", data).status_code == 302
    assert Membership.objects.get().user == cast.department_user


def test_township_admin_cannot_staff_a_department(cast):
    police = unit_create(actor=None, tenant_id=cast.ruian.pk, kind="department", code="p", name="公安")
    client = Client()
    client.force_login(cast.township_a_admin)
    data = {"unit": police.pk, "user": cast.township_a_staff.pk, "role": "member"}
    assert client.post("/admin/teams/membership/add/", data).status_code == 403
    assert not Membership.objects.exists()
