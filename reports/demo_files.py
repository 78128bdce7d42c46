"""Demo data for the member departments' assessment: a share of the year's past cases handled by the
departments (a few gone overdue) and the departments' work reports of the year, most reviewed and
scored, so the demo's published round has a department scorecard behind every number.

Idempotent: only past cases without a unit are given one, a warning is written once per case (a
unique constraint), and a department's report of the year is submitted once (a unique constraint)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from cases.models import AlertLevel, Case, DeadlineAlert
from grids.models import Tenant
from teams.models import Membership, Unit, UnitKind

from .models import WorkReport, WorkReportStatus

# Department indicators of the demo scheme (their weights add up to 100 on their own).
DEMO_DEPARTMENT_INDICATORS = [
    {"name": "部门按时办结率", "source": "unit_on_time_rate", "weight": 40},
    {"name": "部门案件逾期率", "source": "unit_overdue", "weight": 20},
    {"name": "部门督办亮牌", "source": "unit_cards", "weight": 10},
    {"name": "年度述职评议", "source": "work_report", "weight": 30},
]


def seed_department_work(tenant: Tenant, *, actor: Any, year: int) -> int:
    """Give every third past case of `year` a member department, a tenth of those a red warning;
    returns how many cases were given a department."""
    departments = list(
        Unit.objects.filter(tenant=tenant, kind=UnitKind.DEPARTMENT, is_active=True).order_by("code")
    )
    if not departments:
        return 0
    cases = list(
        Case.objects.filter(
            tenant=tenant, source_ref__startswith="hist-", responsible_unit__isnull=True, closed_at__year=year
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chosen = [pk for pk in cases if pk % 3 == 0]
    by_unit: dict[int, list[int]] = {}
    for i, pk in enumerate(chosen):
        by_unit.setdefault(departments[i % len(departments)].pk, []).append(pk)
    for unit_id, ids in by_unit.items():
        Case.objects.filter(pk__in=ids).update(responsible_unit_id=unit_id)
    rng = random.Random(int(tenant.code) + 13)  # noqa: S311 - synthetic demo data
    late = [pk for pk in chosen if rng.random() < 0.1]
    closed = {
        pk: at for pk, at in Case.objects.filter(pk__in=late).values_list("pk", "closed_at") if at is not None
    }
    DeadlineAlert.objects.bulk_create(
        [
            DeadlineAlert(
                tenant=tenant, case_id=pk, deadline_seq=0, level=AlertLevel.RED, created_at=closed[pk]
            )
            for pk in late
            if pk in closed
        ],
        ignore_conflicts=True,
    )
    return len(chosen)


def seed_work_reports(tenant: Tenant, *, actor: Any, year: int) -> int:
    """Each member department's report of `year`, submitted by its officer; all but the last reviewed
    and scored by the city (`actor`). Returns how many were submitted by this run."""
    from . import work_reports

    rng = random.Random(int(tenant.code) + year)  # noqa: S311 - synthetic demo scores
    done = set(WorkReport.objects.filter(tenant=tenant, year=year).values_list("unit_id", flat=True))
    departments = list(
        Unit.objects.filter(tenant=tenant, kind=UnitKind.DEPARTMENT, is_active=True).order_by("code")
    )
    added = 0
    for i, unit in enumerate(departments):
        score = Decimal(75 + rng.randrange(25))
        if unit.pk in done:
            continue
        officer = Membership.objects.filter(unit=unit).select_related("user").order_by("pk").first()
        if officer is None:
            continue
        report = work_reports.work_report_submit(
            actor=officer.user, unit=unit, year=year,
            text=f"{unit.name}{year}年度平安建设工作述职：落实部门联动、矛盾联调和信息督办职责情况（演示数据）。",
        )  # fmt: skip
        added += 1
        if i == len(departments) - 1:
            continue  # one left awaiting review, so the page shows each state
        work_reports.work_report_review(
            actor=actor, report=report, note="述职内容详实，按要求完成年度任务（演示数据）。"
        )
        report = work_reports.work_report_score(actor=actor, report=report, score=score)
        assert report.status == WorkReportStatus.SCORED
    return added
