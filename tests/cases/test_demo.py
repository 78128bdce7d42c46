"""The demo seeds are deterministic and idempotent."""

import pytest

from cases.demo import seed_case_policy, seed_cases
from cases.models import Case, CaseEvent, TimePolicy
from teams.demo import seed_units
from teams.models import Membership, Unit

pytestmark = pytest.mark.django_db


def test_seeds_run_twice_add_nothing_the_second_time(cast):
    assert seed_units(cast.ruian) > 0
    assert seed_case_policy(cast.ruian) > 0
    made = seed_cases(cast.ruian, actor=cast.city_admin, count=14)
    assert made == 14
    units, members = Unit.objects.count(), Membership.objects.count()
    cases, events = Case.objects.count(), CaseEvent.objects.count()
    assert seed_units(cast.ruian) == 0 and seed_case_policy(cast.ruian) == 0
    assert seed_cases(cast.ruian, actor=cast.city_admin, count=14) == 0
    assert (Unit.objects.count(), Membership.objects.count()) == (units, members)
    assert (Case.objects.count(), CaseEvent.objects.count()) == (cases, events)
    assert TimePolicy.objects.filter(tenant=cast.ruian).exists()
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"registered", "dispatched", "in_hand", "closed"} <= statuses
    # the township staff joined their township's office
    assert Membership.objects.filter(user=cast.township_a_staff, unit__node=cast.township_a).exists()
