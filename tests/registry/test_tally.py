"""The grid pages' household counts come from per-plot tallies the registry keeps in the same
transaction as each change, and stay equal to a recount after every kind of change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grids import selectors as grid_selectors
from grids import tree
from grids.models import Kind, Level
from grids.registry import services
from grids.registry.models import Household, HouseholdTally, Status

from .conftest import resident_row, upload, xlsx

pytestmark = pytest.mark.django_db


def page_counts(cast) -> dict[int, int]:
    """What the city's grid page shows per township, and the city's own count."""
    children = grid_selectors.node_children(actor=cast.city_admin, node=cast.city)
    counts = {c.pk: c.household_count for c in children}
    counts[cast.city.pk] = grid_selectors.household_count(node=cast.city)
    return counts


def recount(cast) -> dict[int, int]:
    """The same counts from the households themselves."""
    active = Household.objects.filter(tenant=cast.ruian, status=Status.ACTIVE)
    counts = {cast.township_a.pk: 0, cast.township_b.pk: 0}
    counts.update(dict(active.values_list("township_id").annotate(n=Count("id")).order_by()))
    counts[cast.city.pk] = active.count()
    return {k: v for k, v in counts.items() if k in page_counts(cast)}


def test_counts_follow_add_move_and_deregister(cast, people):
    assert page_counts(cast) == recount(cast)
    assert page_counts(cast)[cast.township_a.pk] == 2
    services.household_move(actor=cast.city_admin, household=people.h1, plot=cast.plot_b1, reason="搬迁")
    assert page_counts(cast)[cast.township_a.pk] == 1
    assert page_counts(cast)[cast.township_b.pk] == 2
    assert page_counts(cast) == recount(cast)
    services.household_deregister(actor=cast.city_admin, household=people.h2, reason="迁出")
    assert page_counts(cast)[cast.township_a.pk] == 0
    assert page_counts(cast)[cast.city.pk] == 2
    assert page_counts(cast) == recount(cast)
    # A deregistered household moved elsewhere counts nowhere.
    services.household_move(actor=cast.city_admin, household=people.h2, plot=cast.plot_b1, reason="更正")
    assert page_counts(cast) == recount(cast)


def test_counts_follow_an_import_and_a_reactivating_reimport(
    cast, people, django_capture_on_commit_callbacks
):
    services.household_deregister(actor=cast.city_admin, household=people.h2, reason="迁出")
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3 + 10:04d}", n) for n in range(30)]
    rows.append(resident_row(cast.plot_a1.code, "JS-0002", 99))  # brings JS-0002 back
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_start(actor=cast.township_a_staff, kind="residents", upload=upload(xlsx(rows)))
    job.refresh_from_db()
    assert job.refused == 0
    assert page_counts(cast)[cast.township_a.pk] == 2 + 10
    assert page_counts(cast) == recount(cast)


def test_counts_follow_the_grid_when_a_cell_moves(cast, people):
    """Redrawing the grid moves the tallies with the households (both follow the grid)."""
    tree.node_move(node=cast.cell_a1, new_parent=cast.township_b)
    assert page_counts(cast)[cast.township_a.pk] == 0
    assert page_counts(cast)[cast.township_b.pk] == 3
    assert page_counts(cast) == recount(cast)


def test_rebuild_gives_what_the_services_kept(cast, people):
    services.household_move(actor=cast.city_admin, household=people.h1, plot=cast.plot_b1, reason="搬迁")
    kept = dict(HouseholdTally.objects.values_list("plot_id", "households"))
    services.tally_rebuild(cast.ruian.pk)
    assert dict(HouseholdTally.objects.values_list("plot_id", "households")) == {
        p: n for p, n in kept.items() if n
    }


def test_the_grid_page_reads_no_household_rows(client, cast, people):
    """The page sums tallies; it never scans the households below each child."""
    client.force_login(cast.city_admin)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("grids:node", args=[cast.city.pk]))
    assert response.status_code == 200
    assert not [q["sql"] for q in ctx.captured_queries if 'FROM "grids_household"' in q["sql"]]
    assert any('"grids_householdtally"' in q["sql"] for q in ctx.captured_queries)


def test_a_plot_with_a_tally_can_still_be_deleted_once_empty(cast):
    plot = tree.node_create(parent=cast.cell_a1, kind=Kind.PLOT, code="33038100520199", name="新片")
    assert plot.level == Level.PLOT
    household = services.household_create(actor=cast.city_admin, plot=plot, number="NEW-1")
    services.household_move(actor=cast.city_admin, household=household, plot=cast.plot_a1)
    assert HouseholdTally.objects.filter(plot=plot).exists()
    tree.node_delete(node=plot)
    assert not HouseholdTally.objects.filter(plot_id=plot.pk).exists()
