"""Every list serialised by `ruian_grid.serializers.LeanListSerializer` answers exactly what DRF's own
serialisation of each row gives (the OpenAPI document is built from those serializers)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from cases import selectors as case_selectors
from cases.api import CaseListSerializer
from grids.registry import selectors as registry_selectors
from grids.registry.api import HouseholdSerializer, ResidentSerializer
from ruian_grid.serializers import LeanListSerializer

from ..registry.conftest import people  # noqa: F401 - the registry's households and residents
from .conftest import record

pytestmark = pytest.mark.django_db


def both(serializer, rows, user):
    request = APIRequestFactory().get("/")
    request.user = user
    context = {"request": request}
    lean = serializer(rows, many=True, context=context)
    assert isinstance(lean, LeanListSerializer)
    one_by_one = [dict(serializer(row, context=context).data) for row in rows]
    lean_rows = lean.data
    for ours, theirs in zip(lean_rows, one_by_one, strict=True):
        assert list(ours) == list(theirs)
        assert {k: (v, theirs[k]) for k, v in ours.items() if v != theirs[k]} == {}
    return lean_rows, one_by_one


def test_case_rows_are_the_same_as_drf_gives(cast, units, dispatched):
    record(cast, title="无人负责")  # no unit, no person, no deadline
    rows = list(case_selectors.case_list(cast.city_admin))
    assert len(rows) == 2
    assert any(r.responsible_unit_id for r in rows) and any(not r.responsible_unit_id for r in rows)
    lean, drf = both(CaseListSerializer, rows, cast.city_admin)
    assert lean == drf
    # An unassigned case names no responsible person (DRF used to print None's __str__ method here).
    assert [r["responsible_person_name"] for r in lean if r["responsible_unit"] is None] == [None]
    assert [r["responsible_person_name"] for r in lean if r["responsible_unit"]] == [
        str(cast.department_user)
    ]


def test_household_and_resident_rows_are_the_same_as_drf_gives(cast, people):  # noqa: F811
    households = list(registry_selectors.households_for(cast.city_admin).order_by("number"))
    residents = list(registry_selectors.residents_for(cast.city_admin).order_by("household_id", "id"))
    assert households and residents
    for serializer, rows in ((HouseholdSerializer, households), (ResidentSerializer, residents)):
        lean, drf = both(serializer, rows, cast.city_admin)
        assert lean == drf
