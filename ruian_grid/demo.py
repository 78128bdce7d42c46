"""The Ruian demo city (and a small second city), deterministic and idempotent.

1 city grid; 38 township grids (6 streets, 31 towns, 1 development zone); 1,134 cells (910 villages,
28 communities, 196 enterprises); about 2,600 plots of about 150 households. Names from the
programme's reports are real (上望, 莘塍, 塘下, 飞云, 林垟 with 林北村 and 林西村, 九三村 in 上望);
the rest are plausible synthetic ones. People are synthetic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cases import demo as cases_demo
from grids import tree
from grids.models import GridNode, Household, Kind, Level, Tenant
from grids.registry import demo as registry_demo
from grids.registry import services as registry_services
from grids.services import grant_assign
from grids.tree import NodeSpec
from mechanisms import demo as mechanisms_demo
from reports import demo as reports_demo
from reports import summary as reports_summary
from teams import demo as teams_demo
from teams.models import User
from teams.roles import ROLE_PERMS, Role
from teams.services import user_create

from . import db

# The apps whose tables a seed fills: their statistics are refreshed when it ends.
SEEDED_APPS = ("grids", "teams", "cases", "mechanisms", "reports")

DEMO_PASSWORD = "ruian-demo-2026"  # noqa: S105 - the published demo sign-in, not a secret
RUIAN_CODE = "330381"
PINGYANG_CODE = "330326"

STREETS = [  # (code suffix, name, communities, villages)
    ("001", "安阳街道", 6),
    ("002", "玉海街道", 6),
    ("003", "锦湖街道", 5),
    ("004", "东山街道", 4),
    ("005", "上望街道", 4),
    ("006", "莘塍街道", 3),
]
TOWNS = [
    "塘下镇", "汀田镇", "飞云镇", "仙降镇", "南滨镇", "海安镇", "林垟镇", "场桥镇", "梅头镇", "陶山镇",
    "湖岭镇", "高楼镇", "林川镇", "曹村镇", "平阳坑镇", "碧山镇", "桐浦镇", "潘岱镇", "营前镇", "鹿木镇",
    "篁社镇", "顺泰镇", "北麓镇", "仙岩镇", "芳庄镇", "金川镇", "马屿镇", "永安镇", "云周镇", "北麂镇",
    "东岙镇",
]  # fmt: skip
DEVZONE = ("400", "瑞安经济开发区")
VILLAGES_PER_STREET = 8
ENTERPRISES_IN_DEVZONE = 40

# Cells the programme's reports name, pinned to their townships.
NAMED_VILLAGES = {"上望街道": ["九三村"], "林垟镇": ["林北村", "林西村"]}
SAMPLE_TOWNSHIPS = ("上望街道", "林垟镇")

_PLACE_A = "东西南北前后上下新中大小高塘林山河湖岙垟桥溪"
_PLACE_B = "山岙垟桥塘头埠湾岭坑田洋浦屿口园庄林溪河"
_INDUSTRY = [
    "汽摩配件",
    "鞋业",
    "机械",
    "包装",
    "电器",
    "塑料",
    "阀门",
    "服装",
    "印刷",
    "食品",
    "模具",
    "光学",
]
_SURNAMES = "陈林王张李黄周吴郑金胡叶潘蔡徐朱余杨章孙"
_GIVEN = "国建伟明华军平志海林小丽芳秀英玉春晓文斌杰强磊勇敏静燕洁"
_NUMERALS = "一二三四五六七八九十"


@dataclass
class SeedReport:
    created_tenants: list[str] = field(default_factory=list)
    nodes: int = 0
    households_added: int = 0
    residents_added: int = 0
    units_added: int = 0
    cases_added: int = 0
    visits_added: int = 0
    boundaries_added: int = 0
    round_published: bool = False
    history_added: int = 0
    survey_answers_added: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, home)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")


def _place_names(rng: random.Random, count: int, suffix: str, taken: Iterable[str] = ()) -> list[str]:
    pool = [a + b + suffix for a in _PLACE_A for b in _PLACE_B if a != b]
    rng.shuffle(pool)
    taken_set = set(taken)
    return [n for n in pool if n not in taken_set][:count]


def _plot_specs(
    cell_code: str, cell_name: str, count: int, responsible: Callable[[str], int]
) -> list[NodeSpec]:
    specs = []
    for i in range(1, count + 1):
        code = f"{cell_code}{i:02d}"
        specs.append(
            NodeSpec(Kind.PLOT, code, f"{cell_name}第{_NUMERALS[i - 1]}片", responsible_id=responsible(code))
        )
    return specs


def ruian_township_plan() -> list[tuple[str, str, str, int, int, int]]:
    """(code, name, kind, communities, villages, enterprises) for the 38 townships."""
    plan: list[tuple[str, str, str, int, int, int]] = []
    rest_enterprises = 196 - ENTERPRISES_IN_DEVZONE  # spread over the 37 streets and towns
    for i, (suffix, name, communities) in enumerate(STREETS):
        plan.append(
            (RUIAN_CODE + suffix, name, Kind.STREET, communities, VILLAGES_PER_STREET, 5 if i < 8 else 4)
        )
    town_villages = 910 - VILLAGES_PER_STREET * len(STREETS)  # 862 = 25 x 28 + 6 x 27
    for i, name in enumerate(TOWNS):
        villages = 28 if i < 25 else 27
        enterprises = 5 if len(STREETS) + i < 8 else 4
        plan.append((f"{RUIAN_CODE}{101 + i}", name, Kind.TOWN, 0, villages, enterprises))
    plan.append((RUIAN_CODE + DEVZONE[0], DEVZONE[1], Kind.DEVZONE, 0, 0, ENTERPRISES_IN_DEVZONE))
    assert sum(p[4] for p in plan) == 910 and sum(p[3] for p in plan) == 28
    assert sum(p[5] for p in plan) == 196 and rest_enterprises == sum(p[5] for p in plan[:-1])
    assert town_villages == sum(p[4] for p in plan if p[2] == Kind.TOWN)
    return plan


def _responsible_users(tenant: Tenant, plot_codes: list[str], rng: random.Random) -> dict[str, int]:
    """One named responsible person per plot (synthetic; no sign-in of their own)."""
    unusable = make_password(None)
    wanted = {f"plot{code}": code for code in plot_codes}
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(username=u, tenant=tenant, full_name=_person(rng), password=unusable)
            for u in wanted
            if u not in existing
        ],
        batch_size=1000,
    )
    return {wanted[u]: pk for u, pk in User.objects.filter(username__in=wanted).values_list("username", "pk")}


def _ruian_specs(rng: random.Random, responsible: Callable[[str], int]) -> list[NodeSpec]:
    townships = []
    for index, (code, name, kind, communities, villages, enterprises) in enumerate(ruian_township_plan()):
        cells: list[NodeSpec] = []
        for c, cname in enumerate(_place_names(rng, communities, "社区"), start=1):
            ccode = f"{code}{c:03d}"
            cells.append(
                NodeSpec(Kind.COMMUNITY, ccode, cname, children=_plot_specs(ccode, cname, 8, responsible))
            )
        named = NAMED_VILLAGES.get(name, [])
        village_names = named + _place_names(rng, villages - len(named), "村", taken=named)
        for v, vname in enumerate(village_names, start=1):
            vcode = f"{code}{200 + v:03d}"
            plots = 3 if (index + v) % 5 < 2 else 2
            cells.append(
                NodeSpec(Kind.VILLAGE, vcode, vname, children=_plot_specs(vcode, vname, plots, responsible))
            )
        for e in range(1, enterprises + 1):
            ename = f"瑞安市{rng.choice(_PLACE_A)}{rng.choice(_PLACE_B)}{rng.choice(_INDUSTRY)}有限公司"
            ecode = f"{code}{500 + e:03d}"
            cells.append(
                NodeSpec(Kind.ENTERPRISE, ecode, ename, children=_plot_specs(ecode, ename, 1, responsible))
            )
        townships.append(NodeSpec(kind, code, name, children=cells))
    return townships


def _pingyang_specs(responsible: Callable[[str], int]) -> list[NodeSpec]:
    out = []
    for code, name, villages in (
        ("330326100", "昆阳镇", ["城东村", "城西村"]),
        ("330326101", "鳌江镇", ["新东村", "江屿村"]),
    ):
        cells = []
        for v, vname in enumerate(villages, start=1):
            vcode = f"{code}{200 + v:03d}"
            cells.append(
                NodeSpec(Kind.VILLAGE, vcode, vname, children=_plot_specs(vcode, vname, 2, responsible))
            )
        out.append(NodeSpec(Kind.TOWN, code, name, children=cells))
    return out


def _plot_codes(specs: list[NodeSpec]) -> list[str]:
    codes = []
    for s in specs:
        if s.kind == Kind.PLOT:
            codes.append(s.code)
        codes.extend(_plot_codes(s.children))
    return codes


# Bounding boxes [west, south, east, north] in degrees: field positions outside them are refused.
RUIAN_EXTENT = [120.15, 27.6, 121.2, 27.95]
PINGYANG_EXTENT = [120.15, 27.35, 120.95, 27.75]


def _ensure_tenant(
    report: SeedReport,
    *,
    code: str,
    name: str,
    build: Callable[[Callable[[str], int]], list[NodeSpec]],
    kind: str = Kind.CITY,
    extent: list[float] | None = None,
) -> Tenant:
    tenant = Tenant.objects.filter(code=code).first()
    if tenant is None:
        tenant = tree.tenant_create(name=name, code=code, kind=kind, extent=extent)
        report.created_tenants.append(name)
    elif tenant.extent is None and extent is not None:
        tenant.extent = extent
        tenant.save(update_fields=["extent"])
    root = tree.tenant_root(tenant)
    if root.kind != kind:  # a database seeded before counties had their own kind
        tree.node_update(node=root, kind=kind)
    if root.is_leaf_node():
        rng = random.Random(int(code))  # noqa: S311 - synthetic demo data
        # Two passes over the same seed: the plot codes first, then the tree with its responsibles.
        codes = _plot_codes(build(lambda _code: 0))
        ids = _responsible_users(tenant, codes, rng)
        report.nodes += tree.subtree_bulk_create(parent=root, specs=build(ids.__getitem__))
    return tenant


def _households(tenant: Tenant, townships: Iterable[GridNode], per_plot: Callable[[str], int]) -> int:
    plots = (
        GridNode.objects.filter(tenant=tenant, level=Level.PLOT, parent__parent__in=list(townships))
        .select_related("parent", "parent__parent")
        .order_by("code")
    )
    rows = []
    for plot in plots:
        cell, township = plot.parent, plot.parent.parent
        for n in range(1, per_plot(plot.code) + 1):
            rows.append(
                Household(
                    tenant=tenant,
                    city_id=township.parent_id,
                    township=township,
                    cell=cell,
                    plot=plot,
                    number=f"{plot.code}{n:03d}",
                    address=f"{township.name}{cell.name}{n}号",
                )
            )
    before = Household.objects.filter(tenant=tenant).count()
    Household.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    registry_services.tally_rebuild(tenant.pk)  # the bulk insert went round the services
    return Household.objects.filter(tenant=tenant).count() - before


def _households_per_plot(code: str) -> int:
    """About 150 households a plot, the same every run (120..180 from the code)."""
    return 120 + int(code) % 61


def _user(report: SeedReport, username: str, home: GridNode, role: str, full_name: str) -> None:
    user = User.objects.filter(username=username).first()
    if user is None:
        user_create(
            actor=None,
            username=username,
            home_node=home,
            role=role,
            password=DEMO_PASSWORD,
            full_name=full_name,
        )
    else:
        grant_assign(actor=None, user=user, perms=ROLE_PERMS[role], node=home)
    report.users.append((username, str(Role(role).label), home.name))


def seed(*, full: bool = False, townships: Iterable[str] = SAMPLE_TOWNSHIPS) -> SeedReport:
    report = SeedReport()
    with transaction.atomic():
        ruian = _ensure_tenant(
            report,
            code=RUIAN_CODE,
            name="瑞安市",
            build=lambda r: _ruian_specs(random.Random(1), r),
            extent=RUIAN_EXTENT,
        )
        pingyang = _ensure_tenant(
            report,
            code=PINGYANG_CODE,
            name="平阳县",
            build=_pingyang_specs,
            kind=Kind.COUNTY,
            extent=PINGYANG_EXTENT,
        )
    level1 = GridNode.objects.filter(tenant=ruian, level=Level.TOWNSHIP)
    chosen = level1 if full else level1.filter(name__in=list(townships))
    report.households_added += _households(ruian, chosen, _households_per_plot)
    report.households_added += _households(
        pingyang, GridNode.objects.filter(tenant=pingyang, level=Level.TOWNSHIP), lambda code: 20
    )
    by_name = {n.name: n for n in GridNode.objects.filter(tenant=ruian, level__lte=Level.CELL, name__in=[
        "上望街道", "塘下镇", "九三村", "林垟镇", "林北村"])}  # fmt: skip
    city, other_city = tree.tenant_root(ruian), tree.tenant_root(pingyang)
    with transaction.atomic():
        _user(report, "city_admin", city, Role.CITY_ADMIN, "陈主任")
        _user(report, "shangwang_admin", by_name["上望街道"], Role.TOWNSHIP_ADMIN, "周主任")
        _user(report, "shangwang_staff", by_name["上望街道"], Role.TOWNSHIP_STAFF, "李干事")
        _user(report, "tangxia_staff", by_name["塘下镇"], Role.TOWNSHIP_STAFF, "张干事")
        _user(report, "linyang_staff", by_name["林垟镇"], Role.TOWNSHIP_STAFF, "黄干事")
        _user(report, "jiusan_member", by_name["九三村"], Role.CELL_MEMBER, "林队员")
        _user(report, "linbei_member", by_name["林北村"], Role.CELL_MEMBER, "王队员")
        _user(report, "pingyang_admin", other_city, Role.CITY_ADMIN, "吴主任")
    # Responsible units (departments and offices) with their people, time limits, demo cases, and
    # residents for the households of two named villages. One transaction: on SQLite every commit
    # is a disk flush, and the case services commit once a step.
    with transaction.atomic():
        for tenant in (ruian, pingyang):
            report.units_added += teams_demo.seed_units(tenant, password=DEMO_PASSWORD)
            cases_demo.seed_case_policy(tenant)
        report.cases_added = cases_demo.seed_cases(ruian, actor=User.objects.get(username="city_admin"))
        households = Household.objects.filter(tenant=ruian, cell__name__in=["九三村", "林北村"]).order_by(
            "number"
        )
        report.residents_added = registry_demo.residents_seed(households=list(households))
    # One of each working mechanism (reviews, warning, drafts, meeting, posts, patrol, programme).
    with transaction.atomic():
        mechanisms_demo.seed(ruian)
    report.users.append(("dept_police", "市公安局", "— (cases sent to the department)"))
    # Service teams, a person on every plot of the seeded townships, the cadence, three months of visits.
    with transaction.atomic():
        report.visits_added = teams_demo.seed_field_work(ruian, townships=chosen)
    # Boundaries for the dashboards' maps (a generated tessellation around Ruian's real position).
    with transaction.atomic():
        report.boundaries_added = reports_demo.seed_boundaries(ruian)
    # Two years of closed cases for the dashboards' trends, then a published assessment round of the
    # year (scorecards per township, hand scores with reasons).
    with transaction.atomic():
        report.history_added = reports_demo.seed_history(ruian, actor=User.objects.get(username="city_admin"))
        # The residents' satisfaction survey of the month, open, with anonymous answers in every cell
        # (before the round: the demo scheme scores the survey index).
        report.survey_answers_added = reports_demo.seed_survey(
            ruian, actor=User.objects.get(username="city_admin")
        )
        report.round_published = reports_demo.seed_assessment(
            ruian, actor=User.objects.get(username="city_admin")
        )
    # Hundreds of thousands of rows just arrived: without fresh statistics the planner would still
    # plan for empty tables until autovacuum came round (see ruian_grid.db.analyze).
    db.analyze(*(m for label in SEEDED_APPS for m in apps.get_app_config(label).get_models()))
    # The dashboards' monthly summary of the past months (the beat task refreshes it every hour).
    for tenant in (ruian, pingyang):
        reports_summary.refresh(tenant_id=tenant.pk)
    db.analyze(apps.get_model("reports", "MonthlyFigure"))
    return report
