"""The demo city's responsible units: deterministic and idempotent (called by `seed_demo`)."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from grids.models import GridNode, Level, Tenant

from .models import Membership, Unit, UnitKind, User

# The committee's member departments (综治委成员单位).
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("police", "市公安局"),
    ("justice", "市司法局"),
    ("petitions", "市信访局"),
    ("safety", "市应急管理局（安全生产监督）"),
    ("fire", "市消防救援大队"),
    ("market", "市市场监督管理局"),
    ("housing", "市住房和城乡建设局"),
    ("traffic", "市交警大队"),
)


def seed_units(tenant: Tenant, *, cell_offices: bool = True, password: str | None = None) -> int:
    """Create the member departments, one office per township and (optionally) per cell.

    People: each department gets one demo officer (username ``dept_<code>``, no grid grant, so they
    see only the cases sent to their department), and the users whose home node is an office's node
    join that office. Returns how many units were created; a second run creates none.
    """
    with transaction.atomic():
        existing = set(Unit.objects.filter(tenant=tenant).values_list("code", flat=True))
        new: list[Unit] = []
        for code, name in DEPARTMENTS:
            key = f"dept-{code}"
            if key not in existing:
                new.append(Unit(tenant=tenant, kind=UnitKind.DEPARTMENT, code=key, name=name))
        levels = [Level.TOWNSHIP, Level.CELL] if cell_offices else [Level.TOWNSHIP]
        for node in GridNode.objects.filter(tenant=tenant, level__in=levels).order_by("tree_id", "lft"):
            key = f"office-{node.code}"
            if key in existing:
                continue
            if node.level == Level.TOWNSHIP:
                kind, name = UnitKind.TOWNSHIP_OFFICE, f"{node.name}综治中心"
            else:
                kind, name = UnitKind.CELL_OFFICE, f"{node.name}综治工作室"
            new.append(Unit(tenant=tenant, kind=kind, code=key, name=name[:100], node=node))
        Unit.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        _seed_people(tenant, password)
    return len(new)


def _seed_people(tenant: Tenant, password: str | None) -> None:
    hashed = make_password(password)  # once: hashing is deliberately slow; None gives an unusable one
    for code, name in DEPARTMENTS:
        unit = Unit.objects.get(tenant=tenant, code=f"dept-{code}")
        username = f"dept_{code}" if tenant.code == "330381" else f"dept_{code}_{tenant.code}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, tenant=tenant, full_name=f"{name} 值班员", password=hashed)
            user.save()
        Membership.objects.get_or_create(unit=unit, user=user, defaults={"role": "head"})
    offices = Unit.objects.filter(tenant=tenant).exclude(node=None)
    office_by_node = {o.node_id: o for o in offices}
    for user in User.objects.filter(tenant=tenant, home_node_id__in=list(office_by_node)).order_by("pk"):
        Membership.objects.get_or_create(unit=office_by_node[user.home_node_id], user=user)


# --- field work: service teams, a person on every plot, the cadence and three months of visits ----

import datetime as dt  # noqa: E402
import random  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterable  # noqa: E402

from django.db.models import F  # noqa: E402
from django.db.models.functions import Mod  # noqa: E402
from django.utils import timezone  # noqa: E402

from grids.models import Household  # noqa: E402
from grids.registry.models import Tag  # noqa: E402

from .models import PlotAssignment, Visit, VisitCadence, VisitOutcome  # noqa: E402

CADENCE = ((0, 90), (int(Tag.ELDERLY_ALONE), 30), (int(Tag.DISPUTE), 14))
# The demo members who sign in take over the first plot of their village two months ago.
DEMO_MEMBERS = {"jiusan_member": "九三村", "linbei_member": "林北村"}
_VISIT_NS = uuid.UUID("6f1c2a4e-3b7d-4c8e-9a10-5d2e7f8b9c01")


def seed_field_work(tenant: Tenant, *, townships: Iterable[GridNode], today: dt.date | None = None) -> int:
    """Service teams for every cell of `townships` with the plots' responsible people as members, a
    responsible member on every plot (with history where a demo member took over), the city's visit
    cadence, some tagged households and three months of visits. Idempotent; returns visits added."""
    today = today or timezone.localdate()
    now = timezone.now()
    township_ids = [t.pk for t in townships]
    cells = list(GridNode.objects.filter(tenant=tenant, level=Level.CELL, parent_id__in=township_ids))
    offices = {u.node_id: u.pk for u in Unit.objects.filter(tenant=tenant, kind=UnitKind.CELL_OFFICE)}
    Unit.objects.bulk_create(
        [
            Unit(
                tenant=tenant,
                kind=UnitKind.SERVICE_TEAM,
                code=f"team-{c.code}",
                name=f"{c.name}平安和谐服务队"[:100],
                node=c,
                parent_id=offices.get(c.pk),
            )
            for c in cells
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    teams = {
        u.node_id: u for u in Unit.objects.filter(tenant=tenant, kind=UnitKind.SERVICE_TEAM, node__in=cells)
    }
    plots = list(
        GridNode.objects.filter(tenant=tenant, level=Level.PLOT, parent__in=cells)
        .select_related("parent")
        .order_by("code")
    )
    Membership.objects.bulk_create(
        [Membership(unit=teams[p.parent_id], user_id=p.responsible_id) for p in plots if p.responsible_id],
        batch_size=2000,
        ignore_conflicts=True,
    )
    started = now - dt.timedelta(days=120)
    held = set(PlotAssignment.objects.filter(plot__in=plots).values_list("plot_id", flat=True))
    PlotAssignment.objects.bulk_create(
        [
            PlotAssignment(
                tenant=tenant,
                city_id=p.parent.parent.parent_id if p.parent.parent else None,
                township_id=p.parent.parent_id,
                cell_id=p.parent_id,
                plot=p,
                member_id=p.responsible_id,
                duties="走访入户、信息采集、政策宣传、矛盾调解",
                started_at=started,
                assigned_by=None,
            )
            for p in plots
            if p.responsible_id and p.pk not in held
        ],
        batch_size=2000,
    )
    _demo_members_take_over(tenant, cells, teams, now - dt.timedelta(days=60))
    for tag, days in CADENCE:
        VisitCadence.objects.get_or_create(tenant=tenant, tag=tag, defaults={"interval_days": days})
    households = Household.objects.filter(tenant=tenant, township_id__in=township_ids)
    # Registered a year ago; about one in twelve an elderly person alone, one in forty with a dispute.
    households.filter(created_at__gt=now - dt.timedelta(days=200)).update(
        created_at=now - dt.timedelta(days=365)
    )
    households.annotate(m=Mod(F("id"), 12)).filter(m=0, tags=0).update(tags=int(Tag.ELDERLY_ALONE))
    households.annotate(m=Mod(F("id"), 40)).filter(m=7, tags=0).update(tags=int(Tag.DISPUTE))
    return _visits(tenant, township_ids, today)


def _demo_members_take_over(
    tenant: Tenant, cells: list[GridNode], teams: dict[int, Unit], when: dt.datetime
) -> None:
    from grids.services import node_responsible_set

    by_name = {c.name: c for c in cells}
    for username, cell_name in DEMO_MEMBERS.items():
        cell, user = by_name.get(cell_name), User.objects.filter(username=username, tenant=tenant).first()
        if cell is None or user is None:
            continue
        Membership.objects.get_or_create(
            unit=teams[cell.pk], user=user, defaults={"role": "head", "title": "队长"}
        )
        plot = GridNode.objects.filter(parent=cell, level=Level.PLOT).order_by("code").first()
        current = PlotAssignment.objects.filter(plot=plot, ended_at__isnull=True).first()
        if plot is None or (current is not None and current.member_id == user.pk):
            continue
        if current is not None:
            current.ended_at = when
            current.save(update_fields=["ended_at"])
        PlotAssignment.objects.create(
            tenant=tenant,
            city_id=cell.parent.parent_id,
            township_id=cell.parent_id,
            cell=cell,
            plot=plot,
            member=user,
            duties="走访入户、信息采集、矛盾调解",
            started_at=when,
        )
        node_responsible_set(node=plot, user_id=user.pk)


def _visits(tenant: Tenant, township_ids: list[int], today: dt.date) -> int:
    """Three months of visits following the cadence, by whoever held the plot that day: most
    households seen once or more, some overdue, elderly and dispute households more often."""
    assignments: dict[int, list[PlotAssignment]] = {}
    for a in PlotAssignment.objects.filter(tenant=tenant, township_id__in=township_ids).order_by(
        "started_at"
    ):
        assignments.setdefault(a.plot_id, []).append(a)
    rng = random.Random(330381)  # noqa: S311 - synthetic demo data
    rows: list[Visit] = []
    seen_notes = ("院落整洁，家中有人", "门窗完好，消防通道畅通", "户主在家，家庭和睦", "老人身体尚可")
    heard_notes = ("无诉求", "反映路灯不亮", "希望加强夜间巡逻", "询问医保缴费政策", "邻里排水沟有争议")
    fields = ("id", "tenant_id", "city_id", "township_id", "cell_id", "plot_id", "tags")
    for h in (
        Household.objects.filter(tenant=tenant, township_id__in=township_ids).values_list(*fields).iterator()
    ):
        pk, tenant_id, city_id, township_id, cell_id, plot_id, tags = h
        held = assignments.get(plot_id)
        if not held:
            continue
        every = 14 if tags & int(Tag.DISPUTE) else 30 if tags & int(Tag.ELDERLY_ALONE) else 90
        if rng.random() < 0.2:  # overdue: no visit in these three months
            continue
        day = today - dt.timedelta(days=rng.randint(0, min(every, 89)))
        while day >= today - dt.timedelta(days=90):
            moment = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
            holder = next((a for a in reversed(held) if a.started_at <= moment), held[0])
            outcome = VisitOutcome.RESOLVED if rng.random() < 0.05 else VisitOutcome.ROUTINE
            rows.append(
                Visit(
                    tenant_id=tenant_id,
                    city_id=city_id,
                    township_id=township_id,
                    cell_id=cell_id,
                    plot_id=plot_id,
                    household_id=pk,
                    visitor_id=holder.member_id,
                    assignment=holder,
                    client_id=uuid.uuid5(_VISIT_NS, f"{pk}:{day.isoformat()}"),
                    visited_on=day,
                    seen=rng.choice(seen_notes),
                    heard=rng.choice(heard_notes),
                    outcome=outcome,
                    resolution="当场协调解决" if outcome == VisitOutcome.RESOLVED else "",
                )
            )
            day -= dt.timedelta(days=every + rng.randint(-3, 3))
    before = Visit.objects.filter(tenant=tenant).count()
    Visit.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return Visit.objects.filter(tenant=tenant).count() - before
