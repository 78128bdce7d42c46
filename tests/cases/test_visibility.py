"""Who sees which case: the whole matrix of the named cast, through the one selector."""

from __future__ import annotations

import pytest

from cases import selectors, services

from .conftest import record

pytestmark = pytest.mark.django_db


def test_visibility_matrix(cast, units):
    a1 = record(cast, title="a1")  # Jiusan village, Shangwang street
    a3 = record(cast, node=cast.plot_a3, actor=cast.township_a_staff, title="a3")  # Shangwang community
    b1 = record(cast, node=cast.plot_b1, actor=cast.township_b_staff, title="b1")  # Tangxia town
    city = record(cast, node=cast.city, actor=cast.city_admin, title="city")  # recorded at the city grid
    other = record(cast, node=cast.other_plot, actor=cast.other_tenant_admin, title="other")
    services.case_dispatch(actor=cast.township_b_staff, case=b1, responsible_unit=units.police)  # police: b1

    expected = {
        "city_admin": {a1, a3, b1, city},
        "township_a_staff": {a1, a3},
        "township_a_admin": {a1, a3},
        "township_b_staff": {b1},
        "village_member": {a1},
        "department_user": {b1},
        "other_tenant_admin": {other},
    }
    for name, cases in expected.items():
        user = getattr(cast, name)
        seen = set(selectors.cases_visible(user).values_list("pk", flat=True))
        assert seen == {c.pk for c in cases}, name


def test_inactive_user_sees_nothing(cast, units, case_a1):
    cast.township_a_staff.is_active = False
    cast.township_a_staff.save(update_fields=["is_active"])
    assert not selectors.cases_visible(cast.township_a_staff).exists()


def test_leaving_the_department_hides_its_cases(cast, units, dispatched):
    from teams.models import Membership
    from teams.units import forget_units

    assert selectors.cases_visible(cast.department_user).filter(pk=dispatched.pk).exists()
    Membership.objects.filter(user=cast.department_user).delete()
    forget_units(cast.department_user)
    assert not selectors.cases_visible(cast.department_user).exists()
