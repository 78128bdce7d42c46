"""Workbench panels of supervision and the inbox: counts in scope, one query per count."""

from __future__ import annotations

import pytest
from django.utils import translation

from cases import supervision
from cases.models import Grade
from cases.supervision_panels import supervision as supervision_panel
from teams.panels import inbox as inbox_panel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def counts(panel) -> dict[str, int | None]:
    return {str(item.label): item.count for item in panel.items} if panel else {}


def request_of(rf, user):
    request = rf.get("/")
    request.user = user
    return request


def test_orders_reach_the_unit_panel_and_the_issuing_tier_panel(
    cast, units, in_hand, rf, django_assert_max_num_queries
):
    order = supervision.order_issue(
        actor=cast.township_a_staff, case=in_hand, grade=Grade.YELLOW, reason="逾期未办"
    )
    with django_assert_max_num_queries(3):
        # the grants; the user's units; the count of open orders addressed to them
        addressed = supervision_panel(request_of(rf, cast.department_user))
    assert counts(addressed) == {"发给本单位的督办单": 1}
    with django_assert_max_num_queries(5):
        # the grants; the user's units; the addressed count; awaiting reply; replies to review
        issued = supervision_panel(request_of(rf, cast.township_a_staff))
    assert counts(issued)["已下发、待答复"] == 1 and counts(issued)["待审核的答复"] == 0
    # Another township's staff: nothing of ours.
    other = counts(supervision_panel(request_of(rf, cast.township_b_staff)))
    assert other["已下发、待答复"] == 0 and other["待审核的答复"] == 0

    supervision.order_reply(actor=cast.department_user, order=order, reply="已上门调解")
    assert counts(supervision_panel(request_of(rf, cast.department_user))) == {}
    issued = counts(supervision_panel(request_of(rf, cast.township_a_staff)))
    assert (issued["已下发、待答复"], issued["待审核的答复"]) == (0, 1)
    assert counts(supervision_panel(request_of(rf, cast.township_b_staff)))["待审核的答复"] == 0


def test_no_supervision_panel_for_someone_without_orders_or_a_tier(cast, units, rf):
    assert supervision_panel(request_of(rf, cast.village_member)) is None


def test_inbox_panel_counts_only_my_unread_items(cast, units, in_hand, rf, django_assert_max_num_queries):
    supervision.order_issue(
        actor=cast.township_a_staff, case=in_hand, grade=Grade.ORDINARY, reason="请加快办理"
    )
    with django_assert_max_num_queries(1):
        # the COUNT over the unread index
        mine = inbox_panel(request_of(rf, cast.department_user))
    assert mine is not None and mine.items[0].count >= 1 and mine.items[0].url == "/inbox/?unread=1"
    assert inbox_panel(request_of(rf, cast.township_b_staff)).items[0].count == 0
