"""Demo data for the reports: plausible grid boundaries for the demo city (so the dashboards' maps
have something to draw) and, in `seed_assessment`, a published assessment round.

The boundaries are a generated tessellation, not survey data: the city's extent around Ruian's real
position (about 27.78N 120.65E) is cut into strips of rectangles, one per township, each township's
rectangle into one per cell, each cell's into one per plot. Deterministic (the tree's order and a
fixed seed), and only nodes without a boundary are written, so a rerun changes nothing.
"""

from __future__ import annotations

import math
import random
from typing import Any

from grids import tree
from grids.models import GridNode, Level, Tenant

from .demo_files import DEMO_DEPARTMENT_INDICATORS, seed_department_work, seed_work_reports

# The demo city's extent: west, south, east, north (degrees).
RUIAN_EXTENT = (120.30, 27.60, 120.85, 27.95)

Box = tuple[float, float, float, float]


def _split(box: Box, n: int, rng: random.Random) -> list[Box]:
    """`n` rectangles filling `box`: rows of nearly equal counts, cut at jittered positions."""
    if n <= 0:
        return []
    west, south, east, north = box
    rows = max(1, round(math.sqrt(n * (north - south) / max(east - west, 1e-9))))
    rows = min(rows, n)
    counts = [n // rows + (1 if i < n % rows else 0) for i in range(rows)]
    out: list[Box] = []
    row_cuts = _cuts(south, north, rows, rng)
    for (lo, hi), count in zip(row_cuts, counts, strict=True):
        for left, right in _cuts(west, east, count, rng):
            out.append((left, lo, right, hi))
    return out


def _cuts(start: float, end: float, n: int, rng: random.Random) -> list[tuple[float, float]]:
    weights = [0.7 + 0.6 * rng.random() for _ in range(n)]
    total = sum(weights)
    edges = [start]
    for w in weights:
        edges.append(edges[-1] + (end - start) * w / total)
    edges[-1] = end
    return [(round(edges[i], 6), round(edges[i + 1], 6)) for i in range(n)]


def _polygon(box: Box) -> dict[str, Any]:
    west, south, east, north = box
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def seed_boundaries(tenant: Tenant, *, extent: Box = RUIAN_EXTENT, max_level: int = Level.PLOT) -> int:
    """Give every node of the tenant down to `max_level` a boundary where it has none; returns how many."""
    nodes = list(
        GridNode.objects.filter(tenant=tenant, level__lte=max_level)
        .only("pk", "parent_id", "level", "boundary", "tree_id", "lft")
        .order_by("tree_id", "lft")
    )
    children: dict[int | None, list[GridNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    rng = random.Random(int(tenant.code))  # noqa: S311 - synthetic demo geometry
    boxes: dict[int, Box] = {}
    changed: list[GridNode] = []
    for node in nodes:  # tree order: a parent's box is known before its children's
        if node.parent_id is None:
            boxes[node.pk] = extent
        kids = children.get(node.pk, [])
        for kid, box in zip(kids, _split(boxes[node.pk], len(kids), rng), strict=True):
            boxes[kid.pk] = box
        if node.boundary is None:
            node.boundary = _polygon(boxes[node.pk])
            assert tree.boundary_error(node.boundary) is None
            changed.append(node)
    # Only the boundary column is written (no tree column): a bulk update, not one locked write each.
    GridNode.objects.bulk_update(changed, ["boundary"], batch_size=500)
    return len(changed)


# The sample demo registers households in two townships only: the indicators per household (visit
# coverage, rates per 1,000 households) would leave 36 of 38 townships 'insufficient data', so the
# demo scheme uses the case-based ones (the dashboards show coverage).
# The residents' survey index is seeded first (`seed_survey`), so the demo round scores it too.
DEMO_INDICATORS = [
    {"name": "按时办结率", "source": "on_time_rate", "weight": 25},
    {"name": "群众满意率（回访）", "source": "satisfaction", "weight": 20},
    {"name": "群众安全感满意度（测评）", "source": "survey_index", "weight": 20},
    {"name": "刑事治安发案同比", "source": "incident_change", "weight": 20},
    {"name": "述职评议", "source": "manual", "weight": 15},
]
DEMO_VETOES = [
    {"name": "发生重大刑事治安案件（两起及以上）", "rule": "major_incident", "threshold": 2},
    {"name": "发生群体性事件或集体访", "rule": "mass_incident", "threshold": 1},
]


def seed_assessment(tenant: Tenant, *, actor: Any, today: Any = None) -> bool:
    """The demo city's yearly scheme and a published round (hand scores with reasons for every
    township). Returns True when the round was published by this run; a rerun changes nothing."""
    from decimal import Decimal

    from django.utils import timezone

    from . import services
    from .models import Indicator, Scheme, Source

    today = today or timezone.localdate()
    name = f"{today.year}年度平安建设考核（演示）"
    scheme = Scheme.objects.filter(tenant=tenant, name=name).first()
    if scheme is None:
        scheme = services.scheme_create(
            actor=actor,
            tenant=tenant,
            name=name,
            period_start=today.replace(month=1, day=1),
            period_end=today,
            indicators=[*DEMO_INDICATORS, *DEMO_DEPARTMENT_INDICATORS],
            vetoes=DEMO_VETOES,
            min_cases=5,
            min_households=100,
        )
    rnd = services.round_open(actor=actor, scheme=scheme, name=f"{today.year}年度第一轮")
    if rnd.is_published:
        return False
    manual = Indicator.objects.get(scheme=scheme, source=Source.MANUAL)
    rng = random.Random(int(tenant.code))  # noqa: S311 - synthetic demo scores
    for township in GridNode.objects.filter(tenant=tenant, level=Level.TOWNSHIP).order_by("code"):
        services.manual_score_set(
            actor=actor,
            rnd=rnd,
            indicator=manual,
            unit=township,
            points=Decimal(70 + rng.randrange(30)),
            reason="年度述职评议：领导小组成员单位测评结果（演示数据）",
        )
    # The member departments: cases they handled and their yearly work reports (reports/demo_files.py).
    seed_department_work(tenant, actor=actor, year=scheme.period_end.year)
    seed_work_reports(tenant, actor=actor, year=scheme.period_end.year)
    rnd = services.round_compute(actor=actor, rnd=rnd)
    services.round_publish(actor=actor, rnd=rnd)
    return True


HISTORY_MONTHS = 24
# (kind, sub_kind, title) of the past cases the demo's trends are drawn from.
_HISTORY = [
    ("incident", "burglary", "入室盗窃"),
    ("incident", "ebike_theft", "电动车被盗"),
    ("incident", "fraud", "电信诈骗"),
    ("hazard", "fire", "消防通道堵塞"),
    ("hazard", "production_safety", "企业安全生产隐患"),
    ("petition", "other", "群众来信反映问题"),
    ("dispute", "neighbour", "邻里纠纷"),
    ("dispute", "land", "宅基地边界纠纷"),
]


def seed_history(tenant: Tenant, *, actor: Any, today: Any = None) -> int:
    """Closed cases of the past 24 months in every township (a few a month, fewer each year, most
    answered satisfied at close-out), so the demo's trends and its assessment have data behind them.

    Past data, not work in progress: written in one bulk insert as closed rows (no timeline), each
    with source_ref "hist-<n>"; numbers already present are skipped, so a rerun adds nothing.
    """
    import datetime as dt

    from django.utils import timezone

    from cases.models import Case

    today = today or timezone.localdate()
    done = set(
        Case.objects.filter(tenant=tenant, source_ref__startswith="hist-").values_list(
            "source_ref", flat=True
        )
    )
    plots = list(
        GridNode.objects.filter(tenant=tenant, level=Level.PLOT)
        .select_related("parent")
        .only("pk", "parent_id", "parent__parent_id", "tree_id", "lft")
        .order_by("tree_id", "lft")
    )
    by_township: dict[int, list[GridNode]] = {}
    for plot in plots:
        by_township.setdefault(plot.parent.parent_id, []).append(plot)
    city = tree.tenant_root(tenant)
    rng = random.Random(int(tenant.code) + 1)  # noqa: S311 - synthetic demo history
    tz = timezone.get_current_timezone()
    rows: list[Case] = []
    n = 0
    for township_id in sorted(by_township):
        choices = by_township[township_id]
        base = 2 + rng.randrange(4)
        for back in range(HISTORY_MONTHS, 0, -1):
            year_index = today.year * 12 + today.month - 1 - back
            year, month = divmod(year_index, 12)
            per_month = max(1, base + (1 if back > 12 else 0) + rng.randrange(-1, 2))
            for _ in range(per_month):
                n += 1
                ref = f"hist-{n}"
                if ref in done:
                    continue
                kind, sub_kind, title = _HISTORY[rng.randrange(len(_HISTORY))]
                plot = choices[rng.randrange(len(choices))]
                created = dt.datetime(year, month + 1, 1 + rng.randrange(25), 9 + rng.randrange(8), tzinfo=tz)
                closed = created + dt.timedelta(days=1 + rng.randrange(12))
                roll = rng.random()
                satisfaction = "satisfied" if roll < 0.78 else "basically" if roll < 0.93 else "unsatisfied"
                rows.append(
                    Case(
                        tenant=tenant,
                        city=city,
                        township_id=township_id,
                        cell_id=plot.parent_id,
                        plot=plot,
                        node=plot,
                        kind=kind,
                        sub_kind=sub_kind,
                        source="visit",
                        source_ref=ref,
                        severity="critical" if rng.random() < 0.002 else "general",
                        title=title,
                        status="closed",
                        tier="cell",
                        reporter=actor,
                        resolution="已办结（演示历史数据）",
                        satisfaction=satisfaction,
                        created_at=created,
                        updated_at=closed,
                        closed_at=closed,
                    )
                )
    Case.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def seed_survey(tenant: Tenant, *, actor: Any, today: Any = None) -> int:
    """The demo city's residents' satisfaction survey of this month, open, with answers in every cell
    (a few to a score; some cells stay under the minimum, so 'insufficient data' shows too).

    Synthetic answers are written in one bulk insert, each with a random device hash as a phone would
    give; a survey that already has answers gets none, so a rerun adds nothing. Returns the answers added.
    """
    import datetime as dt
    import secrets

    from django.utils import timezone

    from . import survey as surveys
    from .survey_models import QuestionKind, Survey, SurveyLink, SurveyResponse

    today = today or timezone.localdate()
    title = f"{today.year}年{today.month}月群众安全感满意度测评（演示）"
    item = Survey.objects.filter(tenant=tenant, title=title).first()
    if item is None:
        item = surveys.survey_create(
            actor=actor,
            tenant=tenant,
            title=title,
            period_start=today.replace(day=1),
            period_end=today + dt.timedelta(days=30),
            questions=[
                {"text": "您觉得您所在的村（社区）治安状况怎么样？", "kind": QuestionKind.SAFETY},
                {"text": "您晚上独自在村（社区）里走动感到安全吗？", "kind": QuestionKind.SAFETY},
                {"text": "您对本地平安建设工作满意吗？", "kind": QuestionKind.SATISFACTION},
            ],
        )
    item = surveys.survey_open(actor=actor, survey=item)
    if SurveyResponse.objects.filter(survey=item).exists():
        return 0
    questions = [q.pk for q in item.questions.order_by("order")]
    rng = random.Random(int(tenant.code) + 13)  # noqa: S311 - synthetic demo answers
    rows: list[SurveyResponse] = []
    days = max(1, today.day)
    for link in SurveyLink.objects.filter(survey=item).order_by("pk"):
        lean = rng.random()  # a cell's mood: most fairly content, a few less so
        for _ in range(rng.randrange(4, 22)):
            values = {str(q): max(1, min(5, round(3.2 + 1.6 * lean + rng.gauss(0, 0.8)))) for q in questions}
            rows.append(
                SurveyResponse(
                    survey=item,
                    tenant_id=link.tenant_id,
                    city_id=link.city_id,
                    township_id=link.township_id,
                    cell_id=link.cell_id,
                    answered_on=today.replace(day=1 + rng.randrange(days)),
                    answers=values,
                    points=surveys.answer_points(list(values.values())),
                    device_hash=surveys.device_hash(item.pk, secrets.token_urlsafe(32)),
                )
            )
    SurveyResponse.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
