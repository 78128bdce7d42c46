"""Every list serialised by `ruian_grid.serializers.LeanListSerializer` answers exactly what DRF's own
serialisation of each row gives (the OpenAPI document is built from those serializers)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from cases import selectors as case_selectors
from cases.api import CaseListSerializer
from cases.models import Case
from grids.registry import selectors as registry_selectors
from grids.registry.api import HouseholdSerializer, ResidentSerializer
from ruian_grid.serializers import LeanListSerializer, as_values, values_plan

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


def as_values_rows(serializer, qs):
    values = as_values(qs, serializer)
    assert values is not qs and values_plan(serializer) is not None  # every field is a column path
    return list(values)


def test_case_rows_read_as_values_are_the_same_as_drf_gives(cast, units, dispatched):
    record(cast, title="无人负责")
    qs = case_selectors.case_list(cast.city_admin)
    rows = list(qs)
    _lean, drf = both(CaseListSerializer, rows, cast.city_admin)
    from_values = CaseListSerializer(as_values_rows(CaseListSerializer, qs), many=True).data
    assert from_values == drf
    assert {r["responsible_person_name"] for r in from_values} == {None, str(cast.department_user)}


def test_household_and_resident_rows_read_as_values_are_the_same_as_drf_gives(cast, people):  # noqa: F811
    for serializer, qs in (
        (HouseholdSerializer, registry_selectors.households_for(cast.city_admin).order_by("number")),
        (
            ResidentSerializer,
            registry_selectors.residents_for(cast.city_admin).order_by("household_id", "id"),
        ),
    ):
        rows = list(qs)
        assert rows
        _lean, drf = both(serializer, rows, cast.city_admin)
        assert serializer(as_values_rows(serializer, qs), many=True).data == drf


def test_a_field_that_is_no_column_keeps_the_list_on_model_rows():
    class WithProperty(CaseListSerializer):
        class Meta(CaseListSerializer.Meta):
            pass

        lean_values: dict = {}  # `number` is a property, `overdue` a method: no values plan

    assert values_plan(WithProperty) is None
    qs = Case.objects.all()
    assert as_values(qs, WithProperty) is qs


def test_the_api_lists_page_through_values_rows_as_before(cast, people):  # noqa: F811
    """Keyset pages of rows read as values: every row once, forwards and back."""
    api = APIClient()
    api.force_authenticate(cast.city_admin)
    for url in ("/api/v1/registry/households/?page_size=2", "/api/v1/registry/residents/?page_size=2"):
        seen, pages, next_url = [], [], url
        while next_url:
            body = api.get(next_url).json()
            pages.append(body)
            seen += [r["id"] for r in body["results"]]
            next_url = body["next"]
        assert len(seen) == len(set(seen)) > 2
        back = api.get(pages[-1]["previous"]).json()
        assert [r["id"] for r in back["results"]] == [r["id"] for r in pages[-2]["results"]]
