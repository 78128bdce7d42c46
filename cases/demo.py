"""The demo city's cases, time limits and working calendar: deterministic and idempotent.

Called by `seed_demo` after the grid, the users and `teams.demo.seed_units`:

    seed_case_policy(tenant)
    seed_cases(tenant, actor=<a city administrator>, count=120)
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from grids.models import GridNode, Level, Tenant
from teams.models import Unit, UnitKind, User

from . import services
from .models import CalendarDay, Case, CaseKind, Grade, LimitUnit, Severity, Source, Step, SubKind, TimePolicy

# (step, kind, severity, tier, limit, unit): the city's defaults, editable in the admin.
POLICY: tuple[tuple[str, str, str, str, int, str], ...] = (
    (Step.ACCEPTANCE, "", "", "", 1, LimitUnit.WORKING_DAYS),
    (Step.ACCEPTANCE, "", Severity.CRITICAL, "", 2, LimitUnit.WORKING_HOURS),
    (Step.HANDLING, "", "", "", 5, LimitUnit.WORKING_DAYS),
    (Step.HANDLING, CaseKind.DISPUTE, "", "", 10, LimitUnit.WORKING_DAYS),
    (Step.HANDLING, CaseKind.PETITION, "", "", 15, LimitUnit.WORKING_DAYS),
    (Step.HANDLING, CaseKind.HAZARD, Severity.MAJOR, "", 3, LimitUnit.WORKING_DAYS),
    (Step.HANDLING, "", Severity.CRITICAL, "", 1, LimitUnit.WORKING_DAYS),
    (Step.VERIFICATION, "", "", "", 2, LimitUnit.WORKING_DAYS),
)

# A demo working calendar for 2026 (holidays off; make-up working days 调休 on). The city keeps the
# real, published list in the admin.
HOLIDAYS_2026: tuple[tuple[str, str, bool], ...] = (
    *((f"2026-01-0{d}", "元旦", False) for d in (1, 2, 3)),
    ("2026-01-04", "元旦调休", True),
    ("2026-02-14", "春节调休", True),
    *((f"2026-02-{d}", "春节", False) for d in range(15, 24)),
    ("2026-02-28", "春节调休", True),
    *((f"2026-04-0{d}", "清明节", False) for d in (4, 5, 6)),
    *((f"2026-05-0{d}", "劳动节", False) for d in range(1, 6)),
    ("2026-05-09", "劳动节调休", True),
    *((f"2026-06-{d}", "端午节", False) for d in (19, 20, 21)),
    ("2026-09-20", "国庆节调休", True),
    *((f"2026-09-{d}", "中秋节", False) for d in (25, 26, 27)),
    *((f"2026-10-0{d}", "国庆节", False) for d in range(1, 8)),
    ("2026-10-10", "国庆节调休", True),
)

TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    CaseKind.DISPUTE: (
        (SubKind.NEIGHBOUR, "邻里宅基地边界纠纷"),
        (SubKind.FAMILY, "赡养老人家庭纠纷"),
        (SubKind.LAND, "土地承包经营权纠纷"),
        (SubKind.LABOUR, "企业拖欠工资纠纷"),
    ),
    CaseKind.HAZARD: (
        (SubKind.FIRE, "出租房电动车违规充电"),
        (SubKind.PRODUCTION_SAFETY, "小作坊违规使用液化气"),
        (SubKind.TRAFFIC, "村口急弯缺少警示标志"),
        (SubKind.PUBLIC_ORDER, "夜间聚集喧哗扰民"),
    ),
    CaseKind.PETITION: (
        (SubKind.OTHER, "反映征地补偿标准问题"),
        (SubKind.MASS_INCIDENT, "多户联名反映厂房噪声"),
    ),
    CaseKind.INCIDENT: (
        (SubKind.BURGLARY, "民房入室盗窃"),
        (SubKind.EBIKE_THEFT, "电动自行车被盗"),
        (SubKind.FRAUD, "老人遭遇电信诈骗"),
    ),
    CaseKind.REQUEST: ((SubKind.OTHER, "申请修缮村道路灯"),),
}
SURNAMES = "陈林王张李黄周吴郑蔡"


def seed_case_policy(tenant: Tenant) -> int:
    """The default time limits and the 2026 demo calendar; returns how many rows were added."""
    added = 0
    with transaction.atomic():
        for step, kind, severity, tier, limit, unit in POLICY:
            _row, created = TimePolicy.objects.get_or_create(
                tenant=tenant,
                step=step,
                kind=kind,
                severity=severity,
                tier=tier,
                defaults={"limit": limit, "unit": unit},
            )
            added += created
        for day, name, working in HOLIDAYS_2026:
            _row, created = CalendarDay.objects.get_or_create(
                tenant=tenant, date=dt.date.fromisoformat(day), defaults={"name": name, "is_working": working}
            )
            added += created
    return added


def seed_cases(tenant: Tenant, *, actor: User, count: int = 120, seed: int = 330381) -> int:
    """`count` cases spread over the city's plots and through every stage of the workflow.

    Each demo case carries source_ref "demo-<n>"; numbers already present are skipped, so a rerun
    adds nothing. `actor` must hold record_case and manage_cases at the city grid. Returns how many
    cases were created. Seeding notifies nobody: no task is queued for the demo's timeline entries.
    """
    with services.notifications_muted():
        return _seed_cases(tenant, actor=actor, count=count, seed=seed)


def _seed_cases(tenant: Tenant, *, actor: User, count: int, seed: int) -> int:
    rng = random.Random(seed)  # noqa: S311 - demo data
    plots = list(GridNode.objects.filter(tenant=tenant, level=Level.PLOT).order_by("tree_id", "lft"))
    departments = list(Unit.objects.filter(tenant=tenant, kind=UnitKind.DEPARTMENT).order_by("code"))
    offices = {
        o.node_id: o
        for o in Unit.objects.filter(tenant=tenant, kind=UnitKind.TOWNSHIP_OFFICE).exclude(node=None)
    }
    if not plots or not departments:
        return 0
    done = set(
        Case.objects.filter(tenant=tenant, source_ref__startswith="demo-").values_list(
            "source_ref", flat=True
        )
    )
    kinds = list(TITLES)
    created = 0
    in_hand: list[Case] = []
    for n in range(count):
        plot = plots[rng.randrange(len(plots))]
        kind = kinds[n % len(kinds)]
        sub_kind, title = TITLES[kind][rng.randrange(len(TITLES[kind]))]
        severity = (Severity.GENERAL, Severity.GENERAL, Severity.MAJOR, Severity.CRITICAL)[rng.randrange(4)]
        source = list(Source.values)[rng.randrange(len(Source.values))]
        stage = rng.randrange(7)
        ref = f"demo-{n}"
        if ref in done:
            continue
        surname = SURNAMES[rng.randrange(len(SURNAMES))]
        case = services.case_record(
            actor=actor,
            node=plot,
            kind=kind,
            sub_kind=sub_kind,
            title=title,
            source=source,
            severity=severity,
            description=f"{plot.name}：{title}。",
            source_ref=ref,
            parties=[{"name": f"{surname}某某", "role": "当事人", "phone": f"1380000{n:04d}"}],
        )
        created += 1
        if stage == 0:
            continue
        township_office = offices.get(case.township_id)
        lead = township_office if (stage == 6 and township_office) else departments[n % len(departments)]
        assists = (
            [services.AssistSpec(departments[(n + 1) % len(departments)], "协助现场处置")]
            if stage == 6
            else []
        )
        services.case_dispatch(actor=actor, case=case, responsible_unit=lead, assists=assists)
        if stage == 1:
            continue
        members = list(lead.members.all()[:1])
        handler = members[0] if members else None
        if handler is None:
            continue  # nobody works in that unit yet: the case waits for acceptance
        services.case_accept(actor=handler, case=case)
        if stage == 2:
            in_hand.append(case)
            continue
        if stage == 3:
            services.case_pause(actor=handler, case=case, reason="等待当事人返乡")
            continue
        if stage == 6:
            continue
        services.case_submit(actor=handler, case=case, resolution="经调解，双方达成一致意见。")
        if stage == 4:
            continue
        services.case_close(
            actor=actor, case=case, satisfaction="satisfied", callback_note="电话回访，群众表示满意"
        )
    _supervise(in_hand[: len(DEMO_ORDERS)], actor)
    return created


# Orders the city issues by hand on three of the demo's cases in hand, one of each grade, so that the
# supervision pages, the cards and the inbox have something in them from the first sign-in. (The
# demo's cases are all recorded now, so none is late yet: the scan raises its own orders as their
# deadlines pass.)
DEMO_ORDERS = (
    (Grade.ORDINARY, "群众多次来电催办，请尽快处置并反馈"),
    (Grade.YELLOW, "处置进度缓慢，请于答复期限内说明原因和整改措施"),
    (Grade.RED, "已造成不良影响，请主要负责人亲自督促办理"),
)


def _supervise(cases: list[Case], actor: User) -> None:
    """One order of each grade on the given cases (created by this run only: a rerun issues none)."""
    from . import supervision

    for case, (grade, reason) in zip(cases, DEMO_ORDERS, strict=False):
        supervision.order_issue(actor=actor, case=case, grade=grade, reason=reason)
