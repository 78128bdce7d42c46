"""Field work on the cast's tree: a service team in Jiusan village with the village member, who is
responsible for plot 1; households in plots 1 and 2; the city's visit cadence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from grids.models import Household
from grids.registry import services as registry
from grids.registry.models import Tag
from teams import services
from teams.models import PlotAssignment, Unit, User


@dataclass
class Field:
    team: Unit
    other_team: Unit
    member: User
    teammate: User
    assignment: PlotAssignment
    mine: list[Household]  # in plot_a1, the member's plot
    elsewhere: Household  # in plot_a2, same village, not the member's plot
    linbei: Household  # in plot_b1, another township


def backdate(households: list[Household], days: int = 400) -> None:
    """Households registered long ago, so visits over past months are plausible."""
    Household.objects.filter(pk__in=[h.pk for h in households]).update(
        created_at=timezone.now() - dt.timedelta(days=days)
    )
    for h in households:
        h.refresh_from_db()


@pytest.fixture
def field(cast) -> Field:
    admin = cast.city_admin
    team = services.service_team_create(actor=admin, cell=cast.cell_a1)
    other_team = services.service_team_create(actor=admin, cell=cast.cell_b1)
    member = cast.village_member
    teammate = User.objects.create_user(
        username="jiusan_mate", password="x" * 12, tenant=cast.ruian, full_name="九三村 陈队员"
    )
    services.team_member_add(actor=admin, team=team, user=member, role="head", title="队长")
    services.team_member_add(actor=admin, team=team, user=teammate)
    assignment = services.plot_assign(actor=admin, plot=cast.plot_a1, member=member, duties="走访、调解")
    mine = [
        registry.household_create(actor=admin, plot=cast.plot_a1, number=f"A1-{n}", address=f"九三村{n}号")
        for n in range(1, 4)
    ]
    registry.household_update(actor=admin, household=mine[0], tags=int(Tag.ELDERLY_ALONE))
    elsewhere = registry.household_create(actor=admin, plot=cast.plot_a2, number="A2-1")
    linbei = registry.household_create(actor=admin, plot=cast.plot_b1, number="B1-1")
    backdate([*mine, elsewhere, linbei])
    services.cadence_set(actor=admin, tenant_id=cast.ruian.pk, tag=0, interval_days=90)
    services.cadence_set(actor=admin, tenant_id=cast.ruian.pk, tag=int(Tag.ELDERLY_ALONE), interval_days=30)
    return Field(team, other_team, member, teammate, assignment, mine, elsewhere, linbei)
