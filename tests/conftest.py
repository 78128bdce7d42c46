"""The small deterministic tree and the named cast every access test reads from.

    Ruian city (330381)                                  Pingyang (330326), the other tenant
    ├── Shangwang street (township_a)                    └── Aojiang town
    │   ├── Jiusan village (cell_a1)                         └── Xindong village
    │   │   ├── plot 1 (plot_a1)                                 └── plot 1 (other_plot)
    │   │   └── plot 2 (plot_a2)
    │   └── Shangwang community (cell_a2)
    │       └── plot 1 (plot_a3)
    └── Tangxia town (township_b)
        └── Linbei village (cell_b1)
            └── plot 1 (plot_b1)

Cast: city_admin, township_a_staff, township_a_admin, township_b_staff, village_member (cell_a1),
department_user (Ruian, no grid grant), other_tenant_admin (Pingyang).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from grids import tree
from grids.models import GridNode, Kind, Tenant
from teams.models import User
from teams.roles import Role
from teams.services import user_create

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Concurrency, locking and trigger tests need PostgreSQL: on SQLite they are deselected, not skipped."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@dataclass
class Cast:
    ruian: Tenant
    pingyang: Tenant
    city: GridNode
    township_a: GridNode
    township_b: GridNode
    cell_a1: GridNode
    cell_a2: GridNode
    cell_b1: GridNode
    plot_a1: GridNode
    plot_a2: GridNode
    plot_a3: GridNode
    plot_b1: GridNode
    other_city: GridNode
    other_township: GridNode
    other_cell: GridNode
    other_plot: GridNode
    city_admin: User
    township_a_staff: User
    township_a_admin: User
    township_b_staff: User
    village_member: User
    department_user: User
    other_tenant_admin: User


def _child(parent: GridNode, kind: str, code: str, name: str) -> GridNode:
    return tree.node_create(parent=parent, kind=kind, code=code, name=name)


def _user(username: str, node: GridNode, role: str, full_name: str) -> User:
    return user_create(
        actor=None, username=username, home_node=node, role=role, password=PASSWORD, full_name=full_name
    )


def build_cast() -> Cast:
    ruian = tree.tenant_create(name="瑞安市", code="330381", extent=[120.15, 27.6, 121.2, 27.95])
    pingyang = tree.tenant_create(
        name="平阳县", code="330326", kind=Kind.COUNTY, extent=[120.15, 27.35, 120.95, 27.75]
    )
    city, other_city = tree.tenant_root(ruian), tree.tenant_root(pingyang)
    township_a = _child(city, Kind.STREET, "330381005", "上望街道")
    cell_a1 = _child(township_a, Kind.VILLAGE, "330381005201", "九三村")
    plot_a1 = _child(cell_a1, Kind.PLOT, "33038100520101", "九三村第一片")
    plot_a2 = _child(cell_a1, Kind.PLOT, "33038100520102", "九三村第二片")
    cell_a2 = _child(township_a, Kind.COMMUNITY, "330381005001", "上望社区")
    plot_a3 = _child(cell_a2, Kind.PLOT, "33038100500101", "上望社区第一片")
    township_b = _child(city, Kind.TOWN, "330381101", "塘下镇")
    cell_b1 = _child(township_b, Kind.VILLAGE, "330381101201", "林北村")
    plot_b1 = _child(cell_b1, Kind.PLOT, "33038110120101", "林北村第一片")
    other_township = _child(other_city, Kind.TOWN, "330326101", "鳌江镇")
    other_cell = _child(other_township, Kind.VILLAGE, "330326101201", "新东村")
    other_plot = _child(other_cell, Kind.PLOT, "33032610120101", "新东村第一片")
    department_user = User.objects.create_user(
        username="dept_police", password=PASSWORD, tenant=ruian, full_name="公安局 王警官"
    )
    return Cast(
        ruian=ruian,
        pingyang=pingyang,
        city=city,
        township_a=township_a,
        township_b=township_b,
        cell_a1=cell_a1,
        cell_a2=cell_a2,
        cell_b1=cell_b1,
        plot_a1=plot_a1,
        plot_a2=plot_a2,
        plot_a3=plot_a3,
        plot_b1=plot_b1,
        other_city=other_city,
        other_township=other_township,
        other_cell=other_cell,
        other_plot=other_plot,
        city_admin=_user("city_admin", city, Role.CITY_ADMIN, "市综治办 陈主任"),
        township_a_staff=_user("shangwang_staff", township_a, Role.TOWNSHIP_STAFF, "上望街道 李干事"),
        township_a_admin=_user("shangwang_admin", township_a, Role.TOWNSHIP_ADMIN, "上望街道 周主任"),
        township_b_staff=_user("tangxia_staff", township_b, Role.TOWNSHIP_STAFF, "塘下镇 张干事"),
        village_member=_user("jiusan_member", cell_a1, Role.CELL_MEMBER, "九三村 林队员"),
        department_user=department_user,
        other_tenant_admin=_user("pingyang_admin", other_city, Role.CITY_ADMIN, "平阳县 吴主任"),
    )


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """API rate limits count in the cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
