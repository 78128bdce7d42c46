"""Deadlines that make sense: a typed deadline survives acceptance unless a binding limit says
otherwise (and the page says why, from what to what); a later assisting deadline needs confirming;
a deadline in the past is refused with a message and nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CasePart, Status, TimePolicy


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def in_days(n: int) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=n)).replace(microsecond=0)


def dispatch(cast, units, case, **kw):
    return services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police, **kw)


def test_typed_deadline_is_kept_when_the_unit_accepts(cast, units, case_a1):
    due = in_days(30)  # far beyond the default 5 working days of handling
    dispatch(cast, units, case_a1, due_at=due)
    case = services.case_accept(actor=cast.department_user, case=case_a1)
    assert case.status == Status.IN_HAND and case.due_at == due and case.red_at == due
    assert case.events.get(action="accept").data == {"deadline_kept": due.isoformat()}


def test_without_a_typed_deadline_acceptance_starts_the_policy_clock(cast, units, case_a1):
    dispatch(cast, units, case_a1)
    before = timezone.now()
    case = services.case_accept(actor=cast.department_user, case=case_a1)
    assert case.dispatcher_due_at is None and case.due_at > before
    assert "deadline_moved" not in case.events.get(action="accept").data


def test_a_non_binding_shorter_limit_does_not_override_the_dispatcher(cast, units, case_a1):
    TimePolicy.objects.create(tenant=cast.ruian, step="handling", limit=2, unit="days", binding=False)
    due = in_days(30)
    dispatch(cast, units, case_a1, due_at=due)
    assert services.case_accept(actor=cast.department_user, case=case_a1).due_at == due


def test_a_binding_limit_moves_the_deadline_and_the_page_says_why(cast, units, case_a1):
    TimePolicy.objects.create(
        tenant=cast.ruian, step="handling", kind="dispute", limit=2, unit="days", binding=True
    )
    typed = in_days(30)
    dispatch(cast, units, case_a1, due_at=typed)
    case = services.case_accept(actor=cast.department_user, case=case_a1)
    assert case.due_at < typed and case.dispatcher_due_at == typed
    moved = case.events.get(action="accept").data["deadline_moved"]
    assert moved["from"] == typed.isoformat() and moved["to"] == case.due_at.isoformat()
    html = web(cast.township_a_staff).get(reverse("cases:detail", args=[case.pk])).content.decode()
    old = timezone.localtime(typed).strftime("%Y-%m-%d %H:%M")
    new = timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"期限由 {old}（派遣时设定）调整为 {new}" in html
    assert "强制执行" in html


def test_a_binding_limit_longer_than_the_typed_deadline_keeps_it(cast, units, case_a1):
    TimePolicy.objects.create(tenant=cast.ruian, step="handling", limit=20, unit="days", binding=True)
    typed = in_days(3)
    dispatch(cast, units, case_a1, due_at=typed)
    assert services.case_accept(actor=cast.department_user, case=case_a1).due_at == typed


def test_an_assisting_deadline_after_the_cases_own_needs_confirming(cast, units, case_a1):
    own, later = in_days(3), in_days(10)
    spec = services.AssistSpec(units.justice, "法律援助", later)
    with pytest.raises(ValidationError) as exc:
        dispatch(cast, units, case_a1, due_at=own, assists=[spec])
    assert "assists" in exc.value.message_dict
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED and not CasePart.objects.filter(case=case_a1).exists()
    assert case_a1.events.count() == 1
    # Confirmed: accepted, and the timeline keeps the confirmation.
    case = dispatch(cast, units, case_a1, due_at=own, assists=[spec], confirm_late_parts=True)
    assert case.parts.get().due_at == later
    assert case.events.get(action="dispatch").data["late_parts_confirmed"]


def test_a_part_without_its_own_deadline_never_ends_after_the_case(cast, units, case_a1):
    own = in_days(1)
    case = dispatch(cast, units, case_a1, due_at=own, assists=[services.AssistSpec(units.justice, "协助")])
    assert case.parts.get().due_at <= own


def test_the_dispatch_page_warns_about_a_later_assisting_deadline(cast, units, case_a1):
    url = reverse("cases:act", args=[case_a1.pk, "dispatch"])
    data = {
        "dispatch-version": 1,
        "dispatch-responsible_unit": units.police.pk,
        "dispatch-due_at": timezone.localtime(in_days(3)).strftime("%Y-%m-%dT%H:%M"),
        "dispatch-assists": [units.justice.pk],
        "dispatch-assist_task": "法律援助",
        "dispatch-assist_due_at": timezone.localtime(in_days(10)).strftime("%Y-%m-%dT%H:%M"),
    }
    client = web(cast.township_a_staff)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200 and "晚于事件期限" in response.content.decode()
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED
    client.post(url, {**data, "dispatch-confirm_late_parts": "on"})
    case_a1.refresh_from_db()
    assert case_a1.status == Status.DISPATCHED and case_a1.parts.count() == 1


def test_a_deadline_in_the_past_on_the_page_is_a_message_and_nothing_is_stored(cast, units, case_a1):
    url = reverse("cases:act", args=[case_a1.pk, "dispatch"])
    data = {
        "dispatch-version": 1,
        "dispatch-responsible_unit": units.police.pk,
        "dispatch-due_at": "2020-01-01T10:00",
    }
    response = web(cast.township_a_staff).post(url, data, follow=True)
    assert response.status_code == 200
    assert "办理时限必须晚于当前时间" in response.content.decode()
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED and case_a1.events.count() == 1


def test_the_api_takes_the_confirmation_too(cast, units, case_a1):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(cast.township_a_staff)
    body = {
        "version": 1,
        "responsible_unit": units.police.pk,
        "due_at": in_days(3).isoformat(),
        "assists": [{"unit": units.justice.pk, "task": "法律援助", "due_at": in_days(9).isoformat()}],
    }
    url = f"/api/v1/cases/{case_a1.pk}/dispatch/"
    refused = api.post(url, body, format="json")
    assert refused.status_code == 400 and "assists" in refused.json()
    accepted = api.post(url, {**body, "confirm_late_parts": True}, format="json")
    assert accepted.status_code == 200, accepted.content
