"""The deadline sweep: yellow then red warnings, once each per deadline, whatever reruns."""

from __future__ import annotations

import datetime as dt

import pytest

from cases import services, tasks
from cases.models import AlertLevel, Case, DeadlineAlert

pytestmark = pytest.mark.django_db


def test_yellow_then_red_once_each(cast, units, case_a1):
    later = case_a1.yellow_at + dt.timedelta(minutes=1)
    assert services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=later) == 1
    assert services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=later) == 0
    case_a1.refresh_from_db()
    assert case_a1.alert_level == AlertLevel.YELLOW
    much_later = case_a1.red_at + dt.timedelta(minutes=1)
    assert services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=much_later) == 1
    assert services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=much_later) == 0
    case_a1.refresh_from_db()
    assert case_a1.alert_level == AlertLevel.RED and case_a1.is_overdue(much_later)
    actions = list(case_a1.events.values_list("action", flat=True))
    assert actions.count("deadline_yellow") == 1 and actions.count("deadline_red") == 1
    assert DeadlineAlert.objects.count() == 2


def test_rerun_with_lost_case_update_is_stopped_by_the_unique_constraint(cast, units, case_a1):
    later = case_a1.red_at + dt.timedelta(minutes=1)
    services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=later)
    Case.objects.filter(pk=case_a1.pk).update(alert_level=0)  # as if the flag were lost
    assert services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=later) == 0
    assert DeadlineAlert.objects.filter(case=case_a1).count() == 1


def test_new_deadline_after_a_transition_warns_again(cast, units, case_a1):
    services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=case_a1.red_at + dt.timedelta(minutes=1))
    case = services.case_dispatch(actor=cast.township_a_staff, case=case_a1, responsible_unit=units.police)
    assert case.alert_level == 0 and case.deadline_seq == 2
    assert (
        services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=case.red_at + dt.timedelta(minutes=1))
        == 1
    )


def test_paused_and_closed_cases_are_not_warned(cast, units, in_hand):
    services.case_pause(actor=cast.department_user, case=in_hand, reason="等当事人回来")
    assert (
        services.deadline_alerts_raise(tenant_id=cast.ruian.pk, now=in_hand.red_at + dt.timedelta(days=30))
        == 0
    )


def test_other_city_is_not_touched(cast, units, case_a1):
    assert (
        services.deadline_alerts_raise(tenant_id=cast.pingyang.pk, now=case_a1.red_at + dt.timedelta(days=1))
        == 0
    )


def test_sweep_task_fans_out_per_city(cast, units, case_a1):
    assert tasks.deadline_sweep.delay().get() == 2  # eager in tests: one check per city ran
