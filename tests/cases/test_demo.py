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


def test_seeding_notifies_nobody_but_real_events_still_do(cast):
    """Hundreds of demo timeline entries must not queue hundreds of notification tasks."""
    from cases import services
    from ruian_grid.outbox.models import OutboxMessage

    notices = OutboxMessage.objects.filter(key__startswith="cases.event_notify:")
    seed_units(cast.ruian)
    assert seed_cases(cast.ruian, actor=cast.city_admin, count=14) == 14
    assert CaseEvent.objects.count() > 14
    assert not notices.exists()
    # Outside the seed, a recorded case notifies as before (the switch does not leak).
    case = services.case_record(
        actor=cast.village_member,
        node=cast.plot_a1,
        kind="dispute",
        sub_kind="neighbour",
        source="visit",
        title="真实事件",
    )
    assert list(notices.values_list("key", flat=True)) == [f"cases.event_notify:{case.events.get().pk}"]


def test_the_demo_has_an_order_of_each_grade_in_the_inbox_of_the_units_concerned(cast):
    """A newcomer's first look at the supervision pages and the inbox is not empty."""
    from cases.models import Grade, SupervisionOrder
    from teams.models import InboxItem

    seed_units(cast.ruian)
    seed_case_policy(cast.ruian)
    seed_cases(cast.ruian, actor=cast.city_admin, count=40)
    orders = SupervisionOrder.objects.filter(tenant=cast.ruian)
    assert sorted(orders.values_list("grade", flat=True)) == [Grade.ORDINARY, Grade.YELLOW, Grade.RED]
    assert all(order.case.status == "in_hand" and order.reason for order in orders)
    for order in orders:
        assert CaseEvent.objects.filter(case=order.case, action="supervision_order").exists()
        members = set(order.unit.members.values_list("pk", flat=True))
        delivered = InboxItem.objects.filter(kind="supervision_order", about_id=order.pk)
        assert members and members <= set(delivered.values_list("user_id", flat=True))
    written = orders.count(), InboxItem.objects.count()
    assert seed_cases(cast.ruian, actor=cast.city_admin, count=40) == 0
    assert (orders.count(), InboxItem.objects.count()) == written
