"""Units and cases on top of the named cast.

Units: police (the department_user works there), justice, the Shangwang office (township_a_staff
works there) and the Jiusan office (the village_member works there).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cases import services
from cases.models import Case
from teams.models import Unit, UnitKind
from teams.services import membership_add, unit_create
from tests.conftest import Cast


@dataclass
class Units:
    police: Unit
    justice: Unit
    shangwang_office: Unit
    jiusan_office: Unit
    pingyang_police: Unit


@pytest.fixture
def units(cast: Cast) -> Units:
    def unit(tenant, kind, code, name, node=None):
        return unit_create(actor=None, tenant_id=tenant.pk, kind=kind, code=code, name=name, node=node)

    u = Units(
        police=unit(cast.ruian, UnitKind.DEPARTMENT, "dept-police", "市公安局"),
        justice=unit(cast.ruian, UnitKind.DEPARTMENT, "dept-justice", "市司法局"),
        shangwang_office=unit(
            cast.ruian, UnitKind.TOWNSHIP_OFFICE, "office-sw", "上望街道综治中心", cast.township_a
        ),
        jiusan_office=unit(cast.ruian, UnitKind.CELL_OFFICE, "office-js", "九三村综治工作室", cast.cell_a1),
        pingyang_police=unit(cast.pingyang, UnitKind.DEPARTMENT, "dept-police", "平阳县公安局"),
    )
    membership_add(actor=None, unit=u.police, user=cast.department_user)
    membership_add(actor=None, unit=u.shangwang_office, user=cast.township_a_staff)
    membership_add(actor=None, unit=u.jiusan_office, user=cast.village_member)
    return u


def record(cast: Cast, *, node=None, actor=None, **kw) -> Case:
    values = {"kind": "dispute", "sub_kind": "neighbour", "source": "visit", "title": "宅基地边界纠纷"}
    values.update(kw)
    return services.case_record(actor=actor or cast.village_member, node=node or cast.plot_a1, **values)


@pytest.fixture
def case_a1(cast: Cast, units: Units) -> Case:
    """A dispute recorded at plot_a1 (Jiusan village, Shangwang street) by the village member."""
    return record(cast)


@pytest.fixture
def dispatched(cast: Cast, units: Units, case_a1: Case) -> Case:
    """case_a1 dispatched by the township to the police."""
    return services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.police,
        responsible_person=cast.department_user,
    )


@pytest.fixture
def in_hand(cast: Cast, dispatched: Case) -> Case:
    return services.case_accept(actor=cast.department_user, case=dispatched)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3), **save: object) -> bytes:
    """A small real image (photos are decoded and re-encoded on upload)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()
