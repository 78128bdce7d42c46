"""The deadline scan, graded orders that climb, manual orders, replies, reviews: once each, whatever reruns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import services, supervision, tasks
from cases.models import (
    AlertLevel,
    Case,
    CaseEvent,
    DeadlineAlert,
    DeadlineWatch,
    Grade,
    OrderStatus,
    SupervisionOrder,
    SupervisionPolicy,
)
from teams.models import InboxItem

from .conftest import record

pytestmark = pytest.mark.django_db


def _next_check(case: Case) -> dt.datetime | None:
    """When the deadline scan will next look at the case (None: nothing left to raise)."""
    return DeadlineWatch.objects.filter(case=case).values_list("next_check_at", flat=True).first()


def _counts() -> tuple[int, int, int, int]:
    return (
        CaseEvent.objects.count(),
        DeadlineAlert.objects.count(),
        SupervisionOrder.objects.count(),
        InboxItem.objects.count(),
    )


def test_reminder_then_overdue_order_then_cards_once_each(cast, units, in_hand):
    t = cast.ruian.pk
    supervision.deadlines_scan(tenant_id=t, now=in_hand.yellow_at + dt.timedelta(minutes=1))
    in_hand.refresh_from_db()
    assert in_hand.alert_level == AlertLevel.YELLOW
    assert InboxItem.objects.filter(user=cast.department_user, kind="reminder").count() == 1

    late = in_hand.due_at + dt.timedelta(minutes=1)
    first = supervision.deadlines_scan(tenant_id=t, now=late)
    assert first.advanced == 1 and first.orders == 1
    before = _counts()
    second = supervision.deadlines_scan(tenant_id=t, now=late)
    assert (second.advanced, second.orders, second.delivered) == (0, 0, 0)
    assert _counts() == before  # a second scan writes nothing
    order = SupervisionOrder.objects.get(case=in_hand)
    # A cell case's order comes from the township, to the police and the responsible person.
    assert (order.grade, order.tier, order.unit_id, order.person_id) == (
        Grade.ORDINARY,
        "township",
        units.police.pk,
        cast.department_user.pk,
    )
    assert DeadlineAlert.objects.filter(case=in_hand, level=AlertLevel.RED).count() == 1

    in_hand.refresh_from_db()
    supervision.deadlines_scan(tenant_id=t, now=in_hand.red_card_at + dt.timedelta(minutes=1))
    in_hand.refresh_from_db()
    assert in_hand.alert_level == AlertLevel.RED_CARD and _next_check(in_hand) is None
    grades = sorted(SupervisionOrder.objects.filter(case=in_hand).values_list("grade", "status"))
    assert grades == [(Grade.ORDINARY, OrderStatus.SUPERSEDED), (Grade.RED, OrderStatus.OPEN)]
    actions = list(in_hand.events.values_list("action", flat=True))
    assert actions.count("deadline_red") == 1 and actions.count("deadline_red_card") == 1
    assert actions.count("supervision_order") == 2


def test_a_scan_killed_halfway_leaves_nothing_and_the_retry_writes_once(cast, units, in_hand, monkeypatch):
    late = in_hand.due_at + dt.timedelta(minutes=1)
    real = supervision._cases_batch
    calls = {"n": 0}

    def dies_once(*args):
        written = real(*args)  # the batch's rows are written, in its transaction...
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("worker lost")  # ...and the worker dies before it commits
        return written

    monkeypatch.setattr(supervision, "_cases_batch", dies_once)
    with pytest.raises(ConnectionError):
        supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late)
    in_hand.refresh_from_db()
    assert in_hand.alert_level == AlertLevel.NONE and not SupervisionOrder.objects.exists()
    assert not DeadlineAlert.objects.exists() and not InboxItem.objects.exists()
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late)
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late)
    assert SupervisionOrder.objects.filter(case=in_hand).count() == 1
    assert DeadlineAlert.objects.filter(case=in_hand).count() == 1
    assert InboxItem.objects.filter(user=cast.department_user, kind="supervision_order").count() == 1


def test_unanswered_order_climbs_to_the_city_and_its_grade_rises(cast, units):
    SupervisionPolicy.objects.create(
        tenant=cast.ruian, yellow_after_hours=16, red_after_hours=40, reply_hours=4
    )
    case = record(cast, node=cast.plot_a1)  # a cell case: the township issues its order
    late = case.due_at + dt.timedelta(minutes=1)
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late)
    order = SupervisionOrder.objects.get(case=case)
    assert (
        order.tier == "township" and order.unit_id == units.jiusan_office.pk
    )  # the cell's office, before dispatch
    assert InboxItem.objects.filter(user=cast.village_member, key=f"order:{order.pk}").count() == 1
    assert InboxItem.objects.filter(user=cast.township_a_staff, key=f"order:{order.pk}").count() == 1
    after = order.reply_due_at + dt.timedelta(minutes=1)
    assert after < case.yellow_card_at
    result = supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=after)
    assert result.climbed == 1
    order.refresh_from_db()
    climbed = SupervisionOrder.objects.get(parent=order)
    assert order.status == OrderStatus.CLIMBED
    assert (climbed.tier, climbed.grade, climbed.status) == ("city", Grade.YELLOW, OrderStatus.OPEN)
    assert supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=after).climbed == 0
    assert "supervision_climb" in case.events.values_list("action", flat=True)


def test_assisting_part_overdue_gets_its_own_order(cast, units, case_a1):
    case = services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.police,
        assists=[services.AssistSpec(unit=units.justice, task="法律援助")],
    )
    part = case.parts.get()
    assert part.next_check_at == min(part.remind_at, part.day_before_at)
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=part.due_at + dt.timedelta(minutes=1))
    order = SupervisionOrder.objects.get(part=part)
    assert order.unit_id == units.justice.pk and order.grade == Grade.ORDINARY
    before = _counts()
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=part.due_at + dt.timedelta(minutes=1))
    assert _counts() == before


def test_paused_and_closed_cases_are_not_scanned(cast, units, in_hand):
    services.case_pause(actor=cast.department_user, case=in_hand, reason="等当事人回来")
    in_hand.refresh_from_db()
    assert _next_check(in_hand) is None
    assert (
        supervision.deadlines_scan(
            tenant_id=cast.ruian.pk, now=in_hand.due_at + dt.timedelta(days=30)
        ).advanced
        == 0
    )


def test_other_city_is_not_touched(cast, units, case_a1):
    assert (
        supervision.deadlines_scan(
            tenant_id=cast.pingyang.pk, now=case_a1.due_at + dt.timedelta(days=9)
        ).advanced
        == 0
    )
    case_a1.refresh_from_db()
    assert case_a1.alert_level == 0


def test_sweep_task_fans_out_per_city(cast, units, case_a1):
    assert tasks.deadline_sweep.delay().get() == 2  # eager in tests: one scan per city ran


def test_card_thresholds_come_from_the_city_policy(cast, units):
    SupervisionPolicy.objects.create(
        tenant=cast.ruian, yellow_after_hours=2, red_after_hours=4, reply_hours=1
    )
    case = record(cast)
    # 2 working hours after the deadline (default hours 08:30-17:30, no lunch break).
    assert case.yellow_card_at is not None and case.red_card_at is not None
    assert (
        services.calendar.load(cast.ruian.pk, "Asia/Shanghai", case.due_at).minutes_between(
            case.due_at, case.yellow_card_at
        )
        == 120
    )


# --- replies, reviews, manual orders through the API ---------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def order(cast, units, in_hand) -> SupervisionOrder:
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=in_hand.due_at + dt.timedelta(minutes=1))
    return SupervisionOrder.objects.get(case=in_hand)


def test_reply_to_another_units_order_is_refused_then_the_unit_replies(cast, units, order):
    # The township staff sees the order (their grid) but works in another unit.
    refused = _api(cast.township_a_staff).post(
        f"/api/v1/supervision-orders/{order.pk}/reply/", {"reply": "已处理"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert refused.status_code == 403
    assert "只有督办单所发往的单位可以答复" in refused.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and order.reply == "" and order.replied_at is None
    assert not order.case.events.filter(action="supervision_reply").exists()
    ok = _api(cast.department_user).post(
        f"/api/v1/supervision-orders/{order.pk}/reply/", {"reply": "已约谈双方"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "replied"
    assert order.case.events.filter(action="supervision_reply").count() == 1


def test_order_out_of_scope_is_404_then_visible_to_the_entitled(cast, units, order):
    assert _api(cast.township_b_staff).get(f"/api/v1/supervision-orders/{order.pk}/").status_code == 404
    assert _api(cast.other_tenant_admin).get(f"/api/v1/supervision-orders/{order.pk}/").status_code == 404
    assert _api(cast.township_a_staff).get(f"/api/v1/supervision-orders/{order.pk}/").status_code == 200


def test_review_accepts_or_sends_back(cast, units, order):
    supervision.order_reply(actor=cast.department_user, order=order, reply="已约谈")
    refused = _api(cast.department_user).post(
        f"/api/v1/supervision-orders/{order.pk}/review/", {"accept": True}
    )
    assert refused.status_code == 403
    back = _api(cast.city_admin).post(
        f"/api/v1/supervision-orders/{order.pk}/review/", {"accept": False, "note": "请补充现场照片"}
    )
    assert back.status_code == 200 and back.json()["status"] == "open"
    supervision.order_reply(actor=cast.department_user, order=order, reply="已补充")
    done = _api(cast.city_admin).post(f"/api/v1/supervision-orders/{order.pk}/review/", {"accept": True})
    assert done.status_code == 200 and done.json()["status"] == "closed"


def test_manual_order_by_township_user_with_reason(cast, units, in_hand):
    url = "/api/v1/supervision-orders/"
    refused = _api(cast.village_member).post(url, {"case": in_hand.pk, "grade": 2, "reason": "群众多次反映"})
    assert refused.status_code == 403
    assert (
        _api(cast.township_b_staff).post(url, {"case": in_hand.pk, "grade": 2, "reason": "x"}).status_code
        == 404
    )
    no_reason = _api(cast.township_a_staff).post(url, {"case": in_hand.pk, "grade": 2, "reason": " "})
    assert no_reason.status_code == 400 and not SupervisionOrder.objects.exists()
    ok = _api(cast.township_a_staff).post(url, {"case": in_hand.pk, "grade": 2, "reason": "群众多次反映"})
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert (body["tier"], body["grade"], body["manual"], body["unit"]) == (
        "township",
        2,
        True,
        units.police.pk,
    )
    assert in_hand.events.filter(action="supervision_order", actor=cast.township_a_staff).count() == 1


def test_manual_order_on_a_closed_case_is_refused(cast, units, in_hand):
    services.case_submit(actor=cast.department_user, case=in_hand, resolution="已调解")
    services.case_close(actor=cast.township_a_staff, case=in_hand, satisfaction="satisfied")
    response = _api(cast.township_a_staff).post(
        "/api/v1/supervision-orders/",
        {"case": in_hand.pk, "grade": 1, "reason": "复查"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "该事件已办结，不能再发督办单" in response.content.decode()
    assert not SupervisionOrder.objects.exists()
    assert not in_hand.events.filter(action="supervision_order").exists()


def test_cards_are_counted_per_unit_and_person(cast, units, in_hand):
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=in_hand.red_card_at + dt.timedelta(minutes=1))
    since = in_hand.created_at - dt.timedelta(days=1)
    from cases import selectors

    by_unit = list(selectors.cards_by_unit(cast.city_admin, since=since))
    by_person = list(selectors.cards_by_person(cast.city_admin, since=since))
    assert [(r["unit_id"], r["yellow"], r["red"]) for r in by_unit] == [(units.police.pk, 0, 1)]
    assert [(r["person_id"], r["red"]) for r in by_person] == [(cast.department_user.pk, 1)]
    assert list(selectors.cards_by_unit(cast.other_tenant_admin, since=since)) == []


def test_closing_a_case_withdraws_its_orders(cast, units, order, in_hand):
    services.case_submit(actor=cast.department_user, case=in_hand, resolution="已调解")
    services.case_close(actor=cast.township_a_staff, case=in_hand, satisfaction="satisfied")
    order.refresh_from_db()
    assert order.status == OrderStatus.WITHDRAWN
    assert _next_check(in_hand) is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_write_each_case_once(cast, units, in_hand):
    """Two scans of the same city at the same moment, each on its own connection, claiming one case
    at a time: SKIP LOCKED shares the cases out and the conditional update and unique keys keep
    every mark, order and inbox item single."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED: PostgreSQL")
    others = _eleven_more_like(cast, in_hand)
    late = in_hand.due_at + dt.timedelta(minutes=1)
    start = threading.Barrier(2)
    results: list[supervision.ScanResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late, batch=1, workers=1))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(results) == 2
    assert sum(r.advanced for r in results) == 12 and sum(r.orders for r in results) == 12
    _each_once(cast, [in_hand.pk, *others])
    assert supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late).advanced == 0


def _eleven_more_like(cast: Any, in_hand: Case) -> list[int]:
    """Eleven more cases in the same state and deadline as `in_hand`."""
    copied = (
        "status", "tier", "responsible_unit_id", "responsible_person_id", "due_at", "yellow_at", "red_at",
        "yellow_card_at", "red_card_at", "day_before_at", "on_day_at", "alert_level", "reminded",
    )  # fmt: skip
    values = {name: getattr(in_hand, name) for name in copied}
    others = [record(cast, title=f"纠纷 {i}").pk for i in range(11)]
    Case.objects.filter(pk__in=others).update(**values)
    DeadlineWatch.objects.filter(case_id__in=others).update(next_check_at=_next_check(in_hand))
    return others


def _each_once(cast: Any, cases: list[int]) -> None:
    for pk in cases:
        assert DeadlineAlert.objects.filter(case_id=pk).count() == 1
        assert SupervisionOrder.objects.filter(case_id=pk).count() == 1
        actions = list(CaseEvent.objects.filter(case_id=pk).values_list("action", flat=True))
        assert actions.count("deadline_red") == 1 and actions.count("supervision_order") == 1
    assert InboxItem.objects.filter(user=cast.department_user, kind="supervision_order").count() == len(cases)


@pytest.mark.django_db(transaction=True)
def test_one_scan_on_three_connections_writes_each_case_once_in_the_callers_language(cast, units, in_hand):
    """Outside a transaction on PostgreSQL the scan works its batches on several connections at
    once: every case is still raised once, and the notices are in the language of the caller."""
    from django.db import connection
    from django.utils import translation

    if connection.vendor != "postgresql":
        pytest.skip("several connections at once: PostgreSQL")
    others = _eleven_more_like(cast, in_hand)
    late = in_hand.due_at + dt.timedelta(minutes=1)
    with translation.override("en"):
        result = supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late, batch=2, workers=3)
    assert (result.advanced, result.orders) == (12, 12)
    _each_once(cast, [in_hand.pk, *others])
    subjects = InboxItem.objects.filter(user=cast.department_user, kind="supervision_order")
    assert all(s.startswith("ordinary supervision: ") for s in subjects.values_list("subject", flat=True))
    assert supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=late, workers=3).advanced == 0


def test_the_order_page_words_a_reply_as_dafu_only(cast, units, order):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.department_user)
    page = client.get(f"/cases/supervision/{order.pk}/").content.decode()
    assert "提交答复" in page and "答复期限" in page
    assert "回复" not in page
