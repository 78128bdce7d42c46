"""The demo city's mechanisms: one of each, through the services, idempotent (a rerun adds nothing).

Called by `seed_demo` after the cases: last month's reviews, a warning to 上望街道, the nightly
early-warning scan, a joint meeting with a decision, guidance and a shared note, a patrol with a
finding raised as a case, and the programme with its dated milestones.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from grids.models import GridNode, Level, Tenant
from teams.models import Unit, User

from . import selectors, services
from .models import Campaign, InfoPost, Meeting, Metric, Patrol, SecurityWarning


def seed(tenant: Tenant) -> dict[str, int]:
    now = timezone.now()
    today = now.astimezone(services.tenant_zone(tenant.pk)).date()
    city_admin = User.objects.get(username="city_admin")
    staff = User.objects.get(username="shangwang_staff")
    member = User.objects.get(username="jiusan_member")
    city = GridNode.objects.get(tenant=tenant, level=Level.CITY)
    shangwang = GridNode.objects.get(tenant=tenant, level=Level.TOWNSHIP, name="上望街道")
    jiusan = GridNode.objects.get(tenant=tenant, level=Level.CELL, name="九三村")
    reviews = services.reviews_open_month(tenant_id=tenant.pk, month=services.previous_month(today), now=now)
    drafts = services.early_warning_scan(tenant_id=tenant.pk, day=today - dt.timedelta(days=1), now=now)
    if not SecurityWarning.objects.filter(tenant=tenant, title="近期入室盗窃高发预警").exists():
        services.warning_publish(
            actor=staff, node=shangwang, level="yellow", title="近期入室盗窃高发预警",
            measures="各村社加强夜间巡防，提醒群众关好门窗、贵重物品妥善保管。",
            starts_at=now, ends_at=now + dt.timedelta(days=14),
        )  # fmt: skip
    units = list(Unit.objects.filter(tenant=tenant, kind="department").order_by("code")[:3])
    if units and not Meeting.objects.filter(tenant=tenant, title="综治委成员单位工作例会").exists():
        meeting = services.meeting_schedule(
            actor=city_admin, node=city, title="综治委成员单位工作例会", starts_at=now + dt.timedelta(days=3),
            unit_ids=[u.pk for u in units], place="市综治中心会议室", agenda="通报矛盾纠纷排查；部署出租房消防安全联合整治",
        )  # fmt: skip
        services.decision_add(
            actor=city_admin, meeting=meeting, text="开展出租房消防安全联合整治，月底前完成排查",
            owner=units[0], due_at=now + dt.timedelta(days=20),
        )  # fmt: skip
    if not InfoPost.objects.filter(tenant=tenant, title="关于做好防盗宣传的工作指导").exists():
        services.post_create(
            actor=staff,
            node=shangwang,
            title="关于做好防盗宣传的工作指导",
            body="请各村社服务队入户宣传防盗知识。",
        )
        services.post_create(
            actor=member,
            node=jiusan,
            title="九三村民情反映",
            body="村民反映村口路灯损坏，夜间照明不足。",
            share_up=True,
        )
    if not Patrol.objects.filter(tenant=tenant, node=jiusan).exists():
        plots = list(GridNode.objects.filter(parent=jiusan).order_by("code")[:2])
        if plots:
            services.patrol_record(
                actor=member, cell=jiusan, team="九三村平安和谐服务队",
                team_unit=selectors.service_teams_of(jiusan).first(), started_at=now - dt.timedelta(hours=3),
                ended_at=now - dt.timedelta(hours=1), plots=plots, member_ids=[member.pk],
                findings=[services.FindingSpec(plots[0], "出租房楼道堆放杂物，堵塞消防通道", True, "hazard", "fire")],
            )  # fmt: skip
    if not Campaign.objects.filter(tenant=tenant, name="平安网格建设工作方案").exists():
        year = today.year
        programme = services.campaign_create(
            actor=city_admin, node=city, kind="programme", name="平安网格建设工作方案",
            starts_on=dt.date(year, 6, 1), ends_on=dt.date(year, 12, 31),
        )  # fmt: skip
        for phase, title, due, metric in (
            ("carry_out", "8月底前片格责任人全部到位", dt.date(year, 8, 31), Metric.PLOTS_WITH_RESPONSIBLE),
            ("carry_out", "10月底前完成网格数据库录入", dt.date(year, 10, 31), Metric.PLOTS_WITH_HOUSEHOLDS),
        ):
            services.milestone_add(
                actor=city_admin, campaign=programme, phase=phase, title=title, due_on=due, metric=metric
            )
        services.campaign_create(
            actor=city_admin, node=city, kind="campaign", name="反盗窃专项斗争", starts_on=dt.date(year, 1, 1),
            ends_on=dt.date(year, 12, 31), watched_sub_kind="burglary",
        )  # fmt: skip
    return {"reviews": reviews, "drafts": drafts}
