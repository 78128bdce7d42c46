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
