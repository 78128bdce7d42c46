"""The state machine: transitions, guards, who may fire them, and the timeline each leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import rules, services
from cases.models import Case, CaseEvent, CasePart, Satisfaction, Status, Tier
from cases.services import AssistSpec, CaseConflict

from .conftest import record

pytestmark = pytest.mark.django_db


def actions(user, case):
    case = Case.objects.prefetch_related("parts").get(pk=case.pk)
    return {t.name for t in rules.available(user, case)}


def test_recording_fills_ancestors_and_starts_the_acceptance_clock(cast, units):
    case = record(cast)
    assert (case.city_id, case.township_id, case.cell_id, case.plot_id) == (
        cast.city.pk,
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.plot_a1.pk,
    )
    assert case.status == Status.REGISTERED and case.tier == Tier.CELL
    assert case.due_at and case.due_at > timezone.now() and case.deadline_seq == 1
    assert list(case.events.values_list("action", flat=True)) == ["record"]


def test_township_recording_is_township_tier(cast, units):
    case = record(cast, node=cast.township_a, actor=cast.township_a_staff)
    assert case.tier == Tier.TOWNSHIP and case.cell_id is None and case.plot_id is None


def test_village_member_cannot_record_in_another_township_nothing_written(cast, units):
    with pytest.raises(ValidationError) as exc:
        record(cast, node=cast.plot_b1)
    assert "node" in exc.value.message_dict
    assert not Case.objects.exists()
    assert record(cast, node=cast.plot_b1, actor=cast.township_b_staff).pk


def test_other_tenant_admin_cannot_record_in_ruian(cast, units):
    with pytest.raises(ValidationError):
        record(cast, actor=cast.other_tenant_admin)
    assert not Case.objects.exists()


def test_bad_sub_kind_refused_nothing_written(cast, units):
    with pytest.raises(ValidationError) as exc:
        record(cast, kind="hazard", sub_kind="neighbour")
    assert "sub_kind" in exc.value.message_dict
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_full_happy_path_leaves_a_timeline(cast, units, in_hand):
    case = services.case_submit(actor=cast.department_user, case=in_hand, resolution="双方达成调解协议")
    assert case.status == Status.RESOLVED
    case = services.case_close(
        actor=cast.township_a_staff,
        case=case,
        satisfaction=Satisfaction.SATISFIED,
        callback_note="电话回访，满意",
    )
    assert case.status == Status.CLOSED and case.closed_at and case.due_at is None
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert [e.action for e in events] == ["record", "dispatch", "accept", "submit", "close"]
    assert events[1].actor == cast.township_a_staff and events[1].to_status == Status.DISPATCHED
    assert events[1].due_at is not None  # the deadline at that moment
    assert case.version == 5


def test_village_member_cannot_dispatch(cast, units, case_a1):
    assert "dispatch" not in actions(cast.village_member, case_a1)
    with pytest.raises(PermissionDenied):
        services.case_dispatch(actor=cast.village_member, case=case_a1, responsible_unit=units.police)
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED and case_a1.events.count() == 1
    assert "dispatch" in actions(cast.township_a_staff, case_a1)


def test_other_township_staff_cannot_dispatch(cast, units, case_a1):
    with pytest.raises(PermissionDenied):
        services.case_dispatch(actor=cast.township_b_staff, case=case_a1, responsible_unit=units.police)
    services.case_dispatch(actor=cast.city_admin, case=case_a1, responsible_unit=units.police)


def test_dispatch_to_other_tenant_unit_refused(cast, units, case_a1):
    with pytest.raises(ValidationError) as exc:
        services.case_dispatch(
            actor=cast.township_a_staff, case=case_a1, responsible_unit=units.pingyang_police
        )
    assert "responsible_unit" in exc.value.message_dict
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED and case_a1.version == 1


def test_dispatch_person_must_work_in_the_unit(cast, units, case_a1):
    with pytest.raises(ValidationError):
        services.case_dispatch(
            actor=cast.township_a_staff,
            case=case_a1,
            responsible_unit=units.justice,
            responsible_person=cast.department_user,
        )
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED


def test_deadline_in_the_past_refused(cast, units, case_a1):
    with pytest.raises(ValidationError) as exc:
        services.case_dispatch(
            actor=cast.township_a_staff,
            case=case_a1,
            responsible_unit=units.police,
            due_at=timezone.now() - dt.timedelta(hours=1),
        )
    assert "due_at" in exc.value.message_dict
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED and case_a1.events.count() == 1


def test_explicit_deadline_is_kept(cast, units, case_a1):
    due = timezone.now() + dt.timedelta(days=3)
    case = services.case_dispatch(
        actor=cast.township_a_staff, case=case_a1, responsible_unit=units.police, due_at=due
    )
    assert case.due_at == due and case.red_at == due and case.yellow_at < due


def test_transition_not_allowed_from_state_is_a_conflict(cast, units, case_a1):
    with pytest.raises(CaseConflict):
        services.case_close(actor=cast.township_a_staff, case=case_a1, satisfaction="satisfied")
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED


def test_stale_version_is_a_conflict_and_nothing_written(cast, units, dispatched):
    with pytest.raises(CaseConflict):
        services.case_accept(actor=cast.department_user, case=dispatched, version=1)
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED and dispatched.events.count() == 2


def test_only_the_responsible_unit_accepts(cast, units, dispatched):
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=cast.village_member, case=dispatched)
    assert services.case_accept(actor=cast.department_user, case=dispatched).status == Status.IN_HAND


def test_return_sends_back_to_dispatcher_with_reason(cast, units, dispatched):
    with pytest.raises(ValidationError):
        services.case_return(actor=cast.department_user, case=dispatched, reason="  ")
    case = services.case_return(actor=cast.department_user, case=dispatched, reason="地址有误")
    assert case.status == Status.REGISTERED and case.responsible_unit_id is None
    assert case.events.last().note == "地址有误"


def test_dispute_is_decided_by_the_tier_above_and_its_time_shows(cast, units, dispatched):
    case = services.case_dispute(actor=cast.department_user, case=dispatched, reason="属民事纠纷，非公安职责")
    assert case.status == Status.DISPUTED and case.due_at is None
    with pytest.raises(PermissionDenied):
        services.case_decide(
            actor=cast.department_user, case=case, responsible_unit=units.justice, reason="x"
        )
    case = services.case_decide(
        actor=cast.township_a_staff, case=case, responsible_unit=units.justice, reason="转司法所调解"
    )
    assert case.status == Status.DISPATCHED and case.responsible_unit == units.justice
    assert case.dispute_seconds >= 0 and case.disputed_at is None and case.due_at
    assert case.events.last().data["previous_unit"] == "市公安局"


def test_transfer_by_dispatcher(cast, units, in_hand):
    with pytest.raises(PermissionDenied):
        services.case_transfer(
            actor=cast.department_user, case=in_hand, responsible_unit=units.justice, reason="x"
        )
    case = services.case_transfer(
        actor=cast.township_a_staff, case=in_hand, responsible_unit=units.justice, reason="转办"
    )
    assert case.status == Status.DISPATCHED and case.responsible_unit == units.justice


def test_escalation_moves_the_case_up_one_tier_and_out_of_township_hands(cast, units, case_a1):
    case = services.case_escalate(actor=cast.township_a_staff, case=case_a1, reason="涉及多部门")
    assert case.tier == Tier.TOWNSHIP and case.status == Status.REGISTERED
    case = services.case_escalate(actor=cast.township_a_staff, case=case, reason="重大")
    assert case.tier == Tier.CITY
    assert "dispatch" not in actions(cast.township_a_staff, case)
    with pytest.raises(PermissionDenied):
        services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police)
    with pytest.raises(CaseConflict):
        services.case_escalate(actor=cast.city_admin, case=case, reason="no tier above")
    assert (
        services.case_dispatch(actor=cast.city_admin, case=case, responsible_unit=units.police).status
        == "dispatched"
    )


def test_extension_requested_and_approved_moves_the_deadline(cast, units, in_hand):
    due = in_hand.due_at
    with pytest.raises(CaseConflict):
        services.case_approve_extension(actor=cast.township_a_staff, case=in_hand)
    case = services.case_request_extension(
        actor=cast.department_user, case=in_hand, amount=2, unit="days", reason="等待鉴定结果"
    )
    assert case.due_at == due and case.extension_requested_minutes == 2 * 540
    with pytest.raises(PermissionDenied):
        services.case_approve_extension(actor=cast.department_user, case=case)
    case = services.case_approve_extension(actor=cast.township_a_staff, case=case)
    assert case.due_at > due and case.extension_minutes == 1080 and case.extension_requested_minutes is None


def test_pause_and_resume_count_paused_time_apart(cast, units, in_hand):
    case = services.case_pause(actor=cast.department_user, case=in_hand, reason="当事人外出务工")
    assert case.status == Status.PAUSED and case.paused_at
    with pytest.raises(CaseConflict):
        services.case_submit(actor=cast.department_user, case=case, resolution="x")
    case = services.case_resume(actor=cast.department_user, case=case)
    assert case.status == Status.IN_HAND and case.paused_at is None and case.due_at >= in_hand.due_at
    assert case.extension_minutes == 0


def test_joint_case_closes_only_when_every_part_is_done(cast, units, case_a1):
    case = services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.shangwang_office,
        assists=[AssistSpec(units.police, "现场秩序维护"), AssistSpec(units.justice, "法律援助")],
    )
    assert all(p.due_at and p.due_at > timezone.now() for p in CasePart.objects.filter(case=case))
    case = services.case_accept(actor=cast.township_a_staff, case=case)
    with pytest.raises(CaseConflict):
        services.case_submit(actor=cast.township_a_staff, case=case, resolution="已化解")
    with pytest.raises(PermissionDenied):
        services.part_complete(actor=cast.village_member, case=case, note="done")
    services.part_complete(actor=cast.department_user, case=case, note="已维护秩序")
    with pytest.raises(PermissionDenied):  # done once
        services.part_complete(actor=cast.department_user, case=case, note="again")
    with pytest.raises(CaseConflict):
        services.case_submit(actor=cast.township_a_staff, case=case, resolution="已化解")
    justice_clerk = cast.township_b_staff
    from teams.services import membership_add

    membership_add(actor=None, unit=units.justice, user=justice_clerk)
    services.part_complete(actor=justice_clerk, case=case, note="已提供法律援助")
    case.refresh_from_db()
    case = services.case_submit(actor=cast.township_a_staff, case=case, resolution="已化解")
    assert case.status == Status.RESOLVED
    assert CasePart.objects.filter(case=case, status="done").count() == 2


def test_assist_unit_cannot_be_the_lead_too(cast, units, case_a1):
    with pytest.raises(ValidationError):
        services.case_dispatch(
            actor=cast.township_a_staff,
            case=case_a1,
            responsible_unit=units.police,
            assists=[AssistSpec(units.police, "x")],
        )
    assert not CasePart.objects.exists()


def test_reject_and_reopen(cast, units, in_hand):
    case = services.case_submit(actor=cast.department_user, case=in_hand, resolution="已处理")
    case = services.case_reject(actor=cast.township_a_staff, case=case, reason="当事人不认可")
    assert case.status == Status.IN_HAND
    case = services.case_submit(actor=cast.department_user, case=case, resolution="再次调解成功")
    with pytest.raises(ValidationError):
        services.case_close(actor=cast.township_a_staff, case=case, satisfaction="great")
    case = services.case_close(actor=cast.township_a_staff, case=case, satisfaction="basically")
    with pytest.raises(PermissionDenied):
        services.case_reopen(actor=cast.department_user, case=case, reason="x")
    case = services.case_reopen(actor=cast.township_a_staff, case=case, reason="复发")
    assert case.status == Status.IN_HAND and case.closed_at is None and case.due_at


def test_merge_duplicates(cast, units, case_a1):
    dup = record(cast, title="同一纠纷重复上报")
    with pytest.raises(ValidationError):
        services.case_merge(actor=cast.township_a_staff, case=dup, into=dup)
    with pytest.raises(PermissionDenied):
        services.case_merge(actor=cast.village_member, case=dup, into=case_a1)
    dup = services.case_merge(actor=cast.township_a_staff, case=dup, into=case_a1)
    assert dup.status == Status.MERGED and dup.merged_into_id == case_a1.pk
    assert case_a1.events.filter(action="merged_in").exists()
    assert actions(cast.city_admin, dup) == set()


def test_actions_offered_match_roles(cast, units, dispatched):
    assert actions(cast.department_user, dispatched) == {"accept", "return", "dispute", "escalate"}
    assert actions(cast.township_a_staff, dispatched) == {"transfer", "confirm", "escalate", "merge"}
    assert actions(cast.township_b_staff, dispatched) == set()
    assert actions(cast.other_tenant_admin, dispatched) == set()


def test_confirm_sets_person_and_deadline_by_hand_and_keeps_the_unit(cast, units, dispatched):
    import datetime as dt

    from django.utils import timezone

    due = timezone.now() + dt.timedelta(days=9)
    with pytest.raises(PermissionDenied):
        services.case_confirm(
            actor=cast.department_user, case=dispatched, responsible_person=None, due_at=due
        )
    with pytest.raises(ValidationError):
        services.case_confirm(
            actor=cast.township_a_staff, case=dispatched, responsible_person=None, due_at=None
        )
    case = services.case_confirm(
        actor=cast.township_a_staff, case=dispatched, responsible_person=cast.department_user, due_at=due
    )
    assert (case.responsible_unit, case.responsible_person, case.due_at) == (
        dispatched.responsible_unit, cast.department_user, due,
    )  # fmt: skip
    assert case.events.filter(action="confirm").count() == 1


def test_office_serves_only_its_own_grid(cast, units):
    case_b = record(cast, node=cast.plot_b1, actor=cast.township_b_staff)
    with pytest.raises(ValidationError) as exc:
        services.case_dispatch(actor=cast.city_admin, case=case_b, responsible_unit=units.shangwang_office)
    assert "responsible_unit" in exc.value.message_dict
    case_a = record(cast)
    assert services.case_dispatch(
        actor=cast.city_admin, case=case_a, responsible_unit=units.shangwang_office
    ).pk


def test_redispatch_after_return_keeps_parts_and_refuses_a_second_part(cast, units, case_a1):
    case = services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.shangwang_office,
        assists=[AssistSpec(units.police, "秩序")],
    )
    case = services.case_return(actor=cast.township_a_staff, case=case, reason="情况有误")
    with pytest.raises(ValidationError):
        services.case_dispatch(
            actor=cast.township_a_staff,
            case=case,
            responsible_unit=units.shangwang_office,
            assists=[AssistSpec(units.police, "again")],
        )
    with pytest.raises(ValidationError):  # an assisting unit cannot become the lead
        services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police)
    case = services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.justice)
    assert case.status == Status.DISPATCHED and CasePart.objects.filter(case=case).count() == 1
