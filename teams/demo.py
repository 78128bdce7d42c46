"""The demo city's responsible units: deterministic and idempotent (called by `seed_demo`)."""

from __future__ import annotations

from django.db import transaction

from grids.models import GridNode, Level, Tenant

from .models import Organisation, OrganisationKind

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


def seed_organisations(tenant: Tenant, *, cell_offices: bool = True) -> int:
    """Create the member departments, one office per township and (optionally) per cell.

    Returns how many organisations were created; a second run creates none.
    """
    with transaction.atomic():
        existing = set(Organisation.objects.filter(tenant=tenant).values_list("code", flat=True))
        new: list[Organisation] = []
        for code, name in DEPARTMENTS:
            key = f"dept-{code}"
            if key not in existing:
                new.append(Organisation(tenant=tenant, kind=OrganisationKind.DEPARTMENT, code=key, name=name))
        levels = [Level.TOWNSHIP, Level.CELL] if cell_offices else [Level.TOWNSHIP]
        for node in GridNode.objects.filter(tenant=tenant, level__in=levels).order_by("tree_id", "lft"):
            key = f"office-{node.code}"
            if key in existing:
                continue
            if node.level == Level.TOWNSHIP:
                kind, name = OrganisationKind.TOWNSHIP_OFFICE, f"{node.name}综治中心"
            else:
                kind, name = OrganisationKind.CELL_OFFICE, f"{node.name}综治工作室"
            new.append(Organisation(tenant=tenant, kind=kind, code=key, name=name[:100], node=node))
        Organisation.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)
