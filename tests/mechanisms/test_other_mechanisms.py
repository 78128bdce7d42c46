"""Meetings and decisions, shared information with read receipts, patrols with findings, campaigns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, SupervisionOrder
from grids.models import GridNode
from mechanisms import selectors, services
from mechanisms.models import Decision, InfoPost, Metric, Patrol, PatrolFinding
from teams.inbox_models import InboxItem

pytestmark = pytest.mark.django_db


def test_a_meeting_decision_without_an_owner_is_refused_and_one_with_an_owner_is_followed(cast, units):
    meeting = services.meeting_schedule(
        actor=cast.township_a_staff, node=cast.township_a, title="综治工作例会",
        starts_at=timezone.now() + dt.timedelta(days=1), unit_ids=[units.police.pk, units.justice.pk],
    )  # fmt: skip
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    url = f"/api/v1/mechanisms/meetings/{meeting.pk}/decisions/"
    due = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = client.post(url, {"text": "联合整治出租房", "due_at": due}, format="json")
    assert response.status_code == 400 and "责任单位" in response.json()["owner"][0]
    assert not Decision.objects.exists()
    response = client.post(
        url, {"text": "联合整治出租房", "due_at": due, "owner": units.police.pk}, format="json"
    )
    assert response.status_code == 201
    decision = Decision.objects.get()
    later = decision.due_at - dt.timedelta(hours=1)
    assert services.decisions_sweep(tenant_id=cast.ruian.pk, now=later) == (1, 0)
    assert services.decisions_sweep(tenant_id=cast.ruian.pk, now=decision.due_at + dt.timedelta(hours=1)) == (
        0,
        1,
    )
    assert services.decisions_sweep(tenant_id=cast.ruian.pk, now=decision.due_at + dt.timedelta(hours=2)) == (
        0,
        0,
    )
    # Overdue, it is followed like a case: a supervision order from the township to the police.
    order = SupervisionOrder.objects.get(subject_kind="mechanisms.decision", subject_id=decision.pk)
    assert (order.tier, order.grade, order.unit_id, order.case_id) == ("township", 1, units.police.pk, None)
    assert InboxItem.objects.filter(user=cast.department_user, key=f"order:{order.pk}").exists()
    assert InboxItem.objects.filter(user=cast.township_a_staff, key=f"order:{order.pk}").exists()
    # The police see and answer it through the supervision API; the township reviews it.
    client.force_authenticate(cast.department_user)
    listed = client.get("/api/v1/supervision-orders/").json()["results"]
    assert [(o["id"], o["case"], o["subject_kind"]) for o in listed] == [
        (order.pk, None, "mechanisms.decision")
    ]
    reply = client.post(f"/api/v1/supervision-orders/{order.pk}/reply/", {"reply": "已部署"}, format="json")
    assert reply.status_code == 200 and reply.json()["status"] == "replied"
    client.force_authenticate(cast.township_b_staff)
    assert client.get(f"/api/v1/supervision-orders/{order.pk}/").status_code == 404
    client.force_authenticate(cast.township_a_staff)
    review = client.post(
        f"/api/v1/supervision-orders/{order.pk}/review/", {"accept": False, "note": "未见成效"}, format="json"
    )
    assert review.status_code == 200 and review.json()["status"] == "open"
    # The department sees the meeting it was invited to and reports its decision done.
    client.force_authenticate(cast.department_user)
    assert client.get(f"/api/v1/mechanisms/meetings/{meeting.pk}/").status_code == 200
    done = client.post(
        f"/api/v1/mechanisms/decisions/{decision.pk}/complete/", {"note": "已完成"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    order.refresh_from_db()
    assert order.status == "withdrawn"
    client.force_authenticate(cast.township_b_staff)
    assert client.get(f"/api/v1/mechanisms/meetings/{meeting.pk}/").status_code == 404


def test_guidance_is_read_down_the_tree_and_shows_who_has_not_read_it(cast):
    post = services.post_create(
        actor=cast.township_a_staff, node=cast.township_a, title="防盗指导", body="请各村加强巡查"
    )
    assert post in selectors.posts_visible(cast.village_member)
    assert not selectors.posts_visible(cast.township_b_staff).filter(pk=post.pk).exists()
    services.post_mark_read(actor=cast.village_member, post=post)
    services.post_mark_read(actor=cast.village_member, post=post)
    reads, unread = selectors.post_audience(InfoPost.objects.select_related("node").get(pk=post.pk))
    assert [r.user for r in reads] == [cast.village_member]
    assert cast.township_a_admin in unread and cast.village_member not in unread


def test_a_cell_note_reaches_the_township_only_when_shared_up(cast):
    private = services.post_create(actor=cast.village_member, node=cast.cell_a1, title="村情", body="内部")
    shared = services.post_create(
        actor=cast.village_member, node=cast.cell_a1, title="民意", body="共享", share_up=True
    )
    seen = set(selectors.posts_visible(cast.township_a_staff).values_list("pk", flat=True))
    assert shared.pk in seen and private.pk not in seen


def test_a_patrol_finding_becomes_a_case_in_one_step(cast):
    now = timezone.now()
    patrol = services.patrol_record(
        actor=cast.village_member, cell=cast.cell_a1, team="九三村平安和谐服务队",
        started_at=now - dt.timedelta(hours=2), ended_at=now, plots=[cast.plot_a1, cast.plot_a2],
        findings=[services.FindingSpec(cast.plot_a2, "出租房电动车违规充电", raise_case=True, kind="hazard", sub_kind="fire")],
    )  # fmt: skip
    finding = PatrolFinding.objects.get(patrol=patrol)
    case = Case.objects.get(pk=finding.case_id)
    assert (case.source, case.source_ref, case.plot_id, case.kind) == (
        "patrol",
        f"patrol:{patrol.pk}",
        cast.plot_a2.pk,
        "hazard",
    )
    with pytest.raises(ValidationError):
        services.finding_to_case(actor=cast.village_member, finding=finding, kind="hazard")
    with pytest.raises(PermissionDenied):
        services.patrol_record(
            actor=cast.village_member, cell=cast.cell_b1, team="t", started_at=now - dt.timedelta(hours=1),
            ended_at=now, plots=[cast.plot_b1],
        )  # fmt: skip


def test_milestone_progress_is_measured_from_the_data_per_township(cast):
    campaign = services.campaign_create(
        actor=cast.city_admin, node=cast.city, kind="programme", name="平安网格建设",
        starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    milestone = services.milestone_add(
        actor=cast.city_admin, campaign=campaign, phase="carry_out", title="8月底片格责任人到位",
        due_on=dt.date(2026, 8, 31), metric=Metric.PLOTS_WITH_RESPONSIBLE,
    )  # fmt: skip
    GridNode.objects.filter(pk=cast.plot_a1.pk).update(responsible=cast.village_member)
    rows = {r["name"]: (r["done"], r["of"]) for r in selectors.milestone_progress(milestone, campaign)}
    assert rows == {"上望街道": (1, 3), "塘下镇": (0, 1)}
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    assert client.get(f"/api/v1/mechanisms/campaigns/{campaign.pk}/").status_code == 200  # read down the tree
    client.force_authenticate(cast.other_tenant_admin)
    assert client.get(f"/api/v1/mechanisms/campaigns/{campaign.pk}/").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/mechanisms/", "/mechanisms/reviews/", "/mechanisms/warnings/", "/mechanisms/drafts/", "/mechanisms/meetings/",
     "/mechanisms/posts/", "/mechanisms/analyses/", "/mechanisms/patrols/", "/mechanisms/campaigns/"],
)  # fmt: skip
def test_every_list_page_renders_for_a_village_member(client, cast, url):
    client.force_login(cast.village_member)
    assert client.get(url).status_code == 200


def test_a_patrol_names_the_cells_service_team_and_another_cells_team_is_refused(cast):
    from teams.models import UnitKind
    from teams.services import unit_create

    jiusan_team = unit_create(actor=None, tenant_id=cast.ruian.pk, kind=UnitKind.SERVICE_TEAM, code="team-js",
                              name="九三村平安和谐服务队", node=cast.cell_a1)  # fmt: skip
    other_team = unit_create(actor=None, tenant_id=cast.ruian.pk, kind=UnitKind.SERVICE_TEAM, code="team-b1",
                             name="塘下服务队", node=cast.cell_b1)  # fmt: skip
    client = APIClient()
    client.force_authenticate(cast.village_member)
    now = timezone.now()
    body = {"cell": cast.cell_a1.pk, "started_at": (now - dt.timedelta(hours=2)).isoformat(),
            "ended_at": now.isoformat(), "plots": [cast.plot_a1.pk]}  # fmt: skip
    refused = client.post("/api/v1/mechanisms/patrols/", {**body, "team_unit": other_team.pk}, format="json")
    assert refused.status_code == 400 and "服务队" in refused.json()["team_unit"][0]
    assert not Patrol.objects.exists()
    done = client.post("/api/v1/mechanisms/patrols/", {**body, "team_unit": jiusan_team.pk}, format="json")
    assert done.status_code == 201
    assert (done.json()["team"], done.json()["team_unit"]) == ("九三村平安和谐服务队", jiusan_team.pk)
    # Free text stays accepted for a team not registered as a unit.
    text = client.post("/api/v1/mechanisms/patrols/", {**body, "team": "联防队"}, format="json")
    assert text.status_code == 201 and text.json()["team_unit"] is None
