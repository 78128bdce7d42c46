"""The monthly dispute review (矛盾联调): opening, figures, confirming through the cases workflow,
signing off into a frozen record, chasing when late, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services as case_services
from cases import supervision
from cases.models import Case, CaseEvent, Status, SupervisionOrder
from mechanisms import selectors, services
from mechanisms.models import DisputeReview, ReviewItem
from teams.inbox_models import InboxItem

from .conftest import at, backdate, record

pytestmark = pytest.mark.django_db
MAY = dt.date(2026, 5, 1)
NOW = at(2026, 6, 1, 1)


def _open(cast) -> DisputeReview:
    services.reviews_open_month(tenant_id=cast.ruian.pk, month=MAY, now=NOW)
    return DisputeReview.objects.get(node=cast.township_a, month=MAY)


def test_opening_a_month_opens_one_review_per_township_and_the_city_and_a_rerun_adds_none(cast):
    assert services.reviews_open_month(tenant_id=cast.ruian.pk, month=MAY, now=NOW) == 3
    services.reviews_open_month(tenant_id=cast.ruian.pk, month=dt.date(2026, 5, 17), now=NOW)
    reviews = DisputeReview.objects.filter(tenant=cast.ruian)
    assert sorted(reviews.values_list("node__name", flat=True)) == ["上望街道", "塘下镇", "瑞安市"]
    assert set(reviews.values_list("month", flat=True)) == {MAY}
    a = reviews.get(node=cast.township_a)
    assert (a.city_id, a.township_id) == (cast.city.pk, cast.township_a.pk)
    # Signed off by the 10th of June, Shanghai time.
    assert a.due_at == at(2026, 6, 11, 0)  # by the end of 10 June, Shanghai time
    assert not DisputeReview.objects.filter(tenant=cast.pingyang).exists()


def test_a_month_that_has_not_ended_is_refused_and_nothing_written(cast):
    with pytest.raises(ValidationError) as exc:
        services.reviews_open_month(tenant_id=cast.ruian.pk, month=dt.date(2026, 6, 1), now=NOW)
    assert "尚未结束" in str(exc.value.message_dict["month"][0])
    assert not DisputeReview.objects.exists()


def test_figures_count_the_month_beside_the_month_before_by_kind_and_cell(cast, units):
    backdate(record(cast), at(2026, 5, 3))
    backdate(record(cast, node=cast.plot_a3, actor=cast.township_a_staff, sub_kind="family"), at(2026, 5, 20))
    backdate(record(cast), at(2026, 4, 10))
    backdate(record(cast, node=cast.plot_b1, actor=cast.township_b_staff), at(2026, 5, 5))  # other township
    backdate(record(cast, kind="hazard", sub_kind="fire"), at(2026, 5, 5))  # not a dispute
    Case.objects.update(due_at=at(2026, 7, 1))
    Case.objects.filter(title="宅基地边界纠纷", created_at=at(2026, 4, 10)).update(due_at=at(2026, 5, 10))
    review = _open(cast)
    figures = selectors.review_figures(review, now=NOW)
    assert figures["totals"] == {
        "found": 2, "found_before": 1, "resolved": 0, "resolved_before": 0, "open": 3, "overdue": 1,
    }  # fmt: skip
    assert {r["grid"]: r["found"] for r in figures["by_grid"]} == {"九三村": 1, "上望社区": 1}
    assert {r["kind"]: r["found"] for r in figures["by_kind"]} == {"婚姻家庭纠纷": 1, "邻里纠纷": 1}


def test_confirming_a_registered_dispute_dispatches_it_through_the_workflow(cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    due = timezone.now() + dt.timedelta(days=10)
    item = services.review_confirm(
        actor=cast.township_a_staff,
        review=review,
        case=case,
        unit=units.jiusan_office,
        person=cast.village_member,
        due_at=due,
    )
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    assert (case.responsible_unit, case.responsible_person, case.due_at) == (
        units.jiusan_office, cast.village_member, due,
    )  # fmt: skip
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1
    assert (item.unit, item.person, item.due_at) == (units.jiusan_office, cast.village_member, due)


def test_confirming_a_handled_dispute_transfers_and_sets_the_deadline_on_its_timeline(cast, units):
    case = record(cast)
    case_services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police)
    case_services.case_accept(actor=cast.department_user, case=case)
    backdate(case, at(2026, 5, 3))
    review = _open(cast)
    due = timezone.now() + dt.timedelta(days=7)
    services.review_confirm(
        actor=cast.township_a_staff, review=review, case=case, unit=units.justice, person=None, due_at=due
    )
    case.refresh_from_db()
    assert case.responsible_unit == units.justice and case.due_at == due
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == [
        "record", "dispatch", "accept", "transfer", "confirm",
    ]  # fmt: skip


def test_confirming_with_a_person_outside_the_unit_is_refused_and_nothing_changes(cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    with pytest.raises(ValidationError):
        services.review_confirm(
            actor=cast.township_a_staff,
            review=review,
            case=case,
            unit=units.police,
            person=cast.village_member,
            due_at=timezone.now() + dt.timedelta(days=3),
        )
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and not ReviewItem.objects.exists()


def test_another_township_cannot_confirm_then_the_township_can(cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    kwargs = {"review": review, "case": case, "unit": units.police, "person": None,
              "due_at": timezone.now() + dt.timedelta(days=3)}  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.review_confirm(actor=cast.township_b_staff, **kwargs)
    assert not ReviewItem.objects.exists()
    services.review_confirm(actor=cast.township_a_staff, **kwargs)
    assert ReviewItem.objects.count() == 1


def test_signing_needs_the_analysis_and_every_open_dispute_confirmed(cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    with pytest.raises(ValidationError):
        services.review_sign(actor=cast.township_a_staff, review=review)
    services.review_save_analysis(actor=cast.township_a_staff, review=review, analysis="邻里纠纷上升")
    with pytest.raises(ValidationError) as exc:
        services.review_sign(actor=cast.township_a_staff, review=review)
    assert "1" in exc.value.messages[0]
    review.refresh_from_db()
    assert review.status == "open" and review.snapshot is None
    services.review_confirm(
        actor=cast.township_a_staff, review=review, case=case, unit=units.police, person=None,
        due_at=timezone.now() + dt.timedelta(days=3),
    )  # fmt: skip
    signed = services.review_sign(actor=cast.township_a_staff, review=review)
    assert signed.status == "signed" and signed.signed_by == cast.township_a_staff


def test_a_signed_review_reads_exactly_as_signed_after_the_cases_change(cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    services.review_save_analysis(actor=cast.township_a_staff, review=review, analysis="本月平稳")
    services.review_confirm(
        actor=cast.township_a_staff, review=review, case=case, unit=units.police, person=None,
        due_at=timezone.now() + dt.timedelta(days=3),
    )  # fmt: skip
    services.review_sign(actor=cast.township_a_staff, review=review)
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    before = client.get(f"/api/v1/mechanisms/reviews/{review.pk}/").json()
    case.refresh_from_db()
    case_services.case_transfer(
        actor=cast.township_a_staff, case=case, responsible_unit=units.justice, reason="改派"
    )
    backdate(record(cast), at(2026, 5, 9))  # a late-recorded dispute of the month
    after = client.get(f"/api/v1/mechanisms/reviews/{review.pk}/").json()
    assert after["record"] == before["record"]
    assert after["record"]["disputes"][0]["unit"] == "市公安局"
    assert after["record"]["figures"]["totals"]["found"] == 1
    with pytest.raises(ValidationError):
        services.review_save_analysis(actor=cast.township_a_staff, review=review, analysis="改")


def test_a_late_review_is_reminded_once_then_supervised_once_through_the_inbox(cast, units):
    review = _open(cast)
    late = review.due_at + dt.timedelta(hours=1)
    assert services.reviews_chase(tenant_id=cast.ruian.pk, now=late) == (3, 0)
    assert services.reviews_chase(tenant_id=cast.ruian.pk, now=late) == (0, 0)
    much_later = late + services.SUPERVISE_AFTER
    assert services.reviews_chase(tenant_id=cast.ruian.pk, now=much_later) == (0, 3)
    assert services.reviews_chase(tenant_id=cast.ruian.pk, now=much_later) == (0, 0)
    # A real supervision order from the city to the Shangwang office, once per review (a rerun adds none).
    order = SupervisionOrder.objects.get(subject_kind="mechanisms.disputereview", subject_id=review.pk)
    assert order.case_id is None and order.tier == "city" and order.grade == 1 and order.status == "open"
    assert order.unit == units.shangwang_office and order.township_id == cast.township_a.pk
    assert SupervisionOrder.objects.filter(case__isnull=True).count() == 3
    # The Shangwang office's member is told, once each: the reminder, then the supervision order.
    items = InboxItem.objects.filter(user=cast.township_a_staff).order_by("created_at", "id")
    assert [(i.kind, i.key) for i in items] == [
        ("review_late", f"mechanisms.review_late:{review.pk}"),
        ("supervision_order", f"order:{order.pk}"),
    ]
    assert not InboxItem.objects.filter(user=cast.township_b_staff).exists()


def test_a_late_review_order_shows_on_the_supervision_page_climbs_and_is_withdrawn_when_signed(
    client, cast, units
):
    review = _open(cast)
    late = review.due_at + dt.timedelta(hours=1) + services.SUPERVISE_AFTER
    services.reviews_chase(tenant_id=cast.ruian.pk, now=late - services.SUPERVISE_AFTER)
    services.reviews_chase(tenant_id=cast.ruian.pk, now=late)
    order = SupervisionOrder.objects.get(subject_kind="mechanisms.disputereview", subject_id=review.pk)
    # The township and the city see it on the supervision page with a link to the review.
    for user in (cast.township_a_staff, cast.city_admin):
        client.force_login(user)
        page = client.get("/cases/supervision/").content.decode()
        assert f"/mechanisms/reviews/{review.pk}/" in page and order.subject_label in page
        detail = client.get(f"/cases/supervision/{order.pk}/")
        assert detail.status_code == 200 and "/mechanisms/reviews/" in detail.content.decode()
    # Another township does not.
    client.force_login(cast.township_b_staff)
    assert client.get(f"/cases/supervision/{order.pk}/").status_code == 404
    # Unanswered past its reply deadline, it climbs one grade (the case scan climbs it).
    supervision.deadlines_scan(tenant_id=cast.ruian.pk, now=order.reply_due_at + dt.timedelta(minutes=1))
    order.refresh_from_db()
    assert order.status == "climbed"
    climbed = SupervisionOrder.objects.get(parent=order)
    assert (climbed.grade, climbed.tier, climbed.subject_kind, climbed.subject_id) == (
        2, "city", "mechanisms.disputereview", review.pk,
    )  # fmt: skip
    assert climbed.case_id is None and climbed.subject_label == order.subject_label
    # The office answers it, the city reviews the reply.
    climbed = supervision.order_reply(actor=cast.township_a_staff, order=climbed, reply="本周签发")
    with pytest.raises(PermissionDenied):
        supervision.order_review(actor=cast.township_b_staff, order=climbed, accept=True)
    climbed = supervision.order_review(actor=cast.city_admin, order=climbed, accept=False, note="请尽快")
    assert climbed.status == "open"
    # Signing the review off withdraws what still waits.
    services.review_save_analysis(actor=cast.township_a_staff, review=review, analysis="本月无纠纷")
    services.review_sign(actor=cast.township_a_staff, review=review)
    climbed.refresh_from_db()
    assert climbed.status == "withdrawn"


def test_the_review_page_shows_the_open_disputes_and_signs_off(client, cast, units):
    case = backdate(record(cast), at(2026, 5, 3))
    review = _open(cast)
    client.force_login(cast.township_a_staff)
    page = client.get(f"/mechanisms/reviews/{review.pk}/")
    assert page.status_code == 200 and case.title in page.content.decode()
    due = (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/mechanisms/reviews/{review.pk}/confirm/",
        {"case": case.pk, "unit": units.police.pk, "person": "", "due_at": due, "note": ""},
    )
    client.post(f"/mechanisms/reviews/{review.pk}/analysis/", {"analysis": "平稳"})
    client.post(f"/mechanisms/reviews/{review.pk}/sign/")
    review.refresh_from_db()
    assert review.status == "signed"
    assert "以下为签发时的原样记录" in client.get(f"/mechanisms/reviews/{review.pk}/").content.decode()


def test_review_api_out_of_scope_is_404_then_in_scope_is_200(cast):
    review = _open(cast)
    client = APIClient()
    client.force_authenticate(cast.township_b_staff)
    assert client.get(f"/api/v1/mechanisms/reviews/{review.pk}/").status_code == 404
    client.force_authenticate(cast.other_tenant_admin)
    assert client.get(f"/api/v1/mechanisms/reviews/{review.pk}/").status_code == 404
    client.force_authenticate(cast.township_a_staff)
    assert client.get(f"/api/v1/mechanisms/reviews/{review.pk}/").status_code == 200


def test_opening_through_the_api_refuses_an_unended_month_in_chinese(cast):
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    today = timezone.localdate()
    response = client.post(
        "/api/v1/mechanisms/reviews/", {"node": cast.township_a.pk, "month": today.isoformat()}, format="json"
    )
    assert response.status_code == 400 and "尚未结束" in response.json()["month"][0]
    assert not DisputeReview.objects.exists()
    response = client.post(
        "/api/v1/mechanisms/reviews/", {"node": cast.township_a.pk, "month": "2026-01-15"}, format="json"
    )
    assert response.status_code == 201 and response.json()["month"] == "2026-01-01"


def test_the_review_list_reads_in_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    _open(cast)
    client = APIClient()
    client.force_authenticate(cast.city_admin)
    # session-less API: 1 grants, 1 reviews page with node and signer joined
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/mechanisms/reviews/")
    assert response.status_code == 200 and len(response.json()["results"]) == 3
