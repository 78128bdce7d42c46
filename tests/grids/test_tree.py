"""Tree writes: invariants, bad input refused with nothing written, moves and the registry."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from grids import tree
from grids.models import GridNode, Household, Kind


def _count():
    return GridNode.objects.count()


def test_kind_must_fit_level(cast):
    before = _count()
    with pytest.raises(ValidationError) as err:
        tree.node_create(parent=cast.township_a, kind=Kind.TOWN, code="X1", name="错层")
    assert "kind" in err.value.message_dict
    assert _count() == before
    assert tree.tree_is_valid(cast.ruian)


def test_database_refuses_a_kind_at_the_wrong_level_even_without_the_service(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        GridNode.objects.filter(pk=cast.plot_a1.pk).update(kind=Kind.VILLAGE)


def test_code_is_unique_within_a_tenant_but_not_across(cast):
    with pytest.raises(ValidationError) as err:
        tree.node_create(parent=cast.cell_a1, kind=Kind.PLOT, code=cast.plot_b1.code, name="重复")
    assert "code" in err.value.message_dict
    # The same code in another city is fine.
    node = tree.node_create(parent=cast.other_cell, kind=Kind.PLOT, code=cast.plot_b1.code, name="同码")
    assert node.tenant == cast.pingyang
    assert tree.tree_is_valid(cast.ruian) and tree.tree_is_valid(cast.pingyang)


def test_parent_in_another_tenant_is_refused(cast):
    before = _count()
    with pytest.raises(ValidationError) as err:
        tree.node_create(
            parent=cast.other_cell, kind=Kind.PLOT, code="P9", name="越界", tenant_id=cast.ruian.pk
        )
    assert "parent" in err.value.message_dict
    assert _count() == before


def test_plots_take_no_children(cast):
    with pytest.raises(ValidationError) as err:
        tree.node_create(parent=cast.plot_a1, kind=Kind.PLOT, code="P10", name="孙")
    assert "parent" in err.value.message_dict


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [120.6, 27.8]},
        {"type": "Polygon", "coordinates": [[[120.6, 27.8], [120.7, 27.8], [120.7, 27.9]]]},
        {"type": "Polygon", "coordinates": [[[120.6, 27.8], [120.7, 27.8], [120.7, 27.9], [120.6, 27.9]]]},
        {"type": "Polygon", "coordinates": [[[520.6, 27.8], [120.7, 27.8], [120.7, 27.9], [520.6, 27.8]]]},
        {"type": "Polygon", "coordinates": "nope"},
        "not an object",
    ],
)
def test_malformed_boundary_is_refused(cast, boundary):
    before = _count()
    with pytest.raises(ValidationError) as err:
        tree.node_create(parent=cast.cell_a1, kind=Kind.PLOT, code="P11", name="边界", boundary=boundary)
    assert "boundary" in err.value.message_dict
    assert _count() == before


def test_a_valid_boundary_is_kept(cast):
    ring = [[120.60, 27.80], [120.70, 27.80], [120.70, 27.90], [120.60, 27.80]]
    node = tree.node_create(
        parent=cast.cell_a1,
        kind=Kind.PLOT,
        code="P12",
        name="有界",
        boundary={"type": "Polygon", "coordinates": [ring]},
    )
    assert GridNode.objects.get(pk=node.pk).boundary["coordinates"][0] == ring


def test_moving_a_plot_takes_its_households_along_the_new_grid(cast):
    household = Household.objects.create(
        tenant=cast.ruian,
        city=cast.city,
        township=cast.township_a,
        cell=cast.cell_a1,
        plot=cast.plot_a1,
        number="H1",
    )
    tree.node_move(node=cast.plot_a1, new_parent=cast.cell_b1)
    household.refresh_from_db()
    assert (household.township_id, household.cell_id, household.plot_id) == (
        cast.township_b.pk,
        cast.cell_b1.pk,
        cast.plot_a1.pk,
    )
    assert tree.tree_is_valid(cast.ruian)


def test_a_move_must_keep_levels_and_tenant(cast):
    with pytest.raises(ValidationError):
        tree.node_move(node=cast.plot_a1, new_parent=cast.township_b)
    with pytest.raises(ValidationError):
        tree.node_move(node=cast.plot_a1, new_parent=cast.other_cell)
    assert tree.tree_is_valid(cast.ruian)


def test_delete_refuses_a_node_with_children(cast):
    with pytest.raises(ValidationError):
        tree.node_delete(node=cast.cell_b1)
    tree.node_delete(node=cast.plot_a2)
    assert not GridNode.objects.filter(pk=cast.plot_a2.pk).exists()
    assert tree.tree_is_valid(cast.ruian)


def test_bulk_create_appends_valid_subtrees(cast):
    specs = [
        tree.NodeSpec(Kind.VILLAGE, "V1", "新村", children=[tree.NodeSpec(Kind.PLOT, "V101", "新村一片")])
    ]
    assert tree.subtree_bulk_create(parent=cast.township_b, specs=specs) == 2
    assert tree.tree_is_valid(cast.ruian)
    assert GridNode.objects.get(code="V101").get_ancestors().filter(pk=cast.township_b.pk).exists()


def test_moving_a_village_takes_the_households_of_its_plots_to_the_new_township(cast):
    household = Household.objects.create(
        tenant=cast.ruian,
        city=cast.city,
        township=cast.township_a,
        cell=cast.cell_a1,
        plot=cast.plot_a2,
        number="H2",
    )
    tree.node_move(node=cast.cell_a1, new_parent=cast.township_b)
    household.refresh_from_db()
    assert (household.township_id, household.cell_id, household.plot_id) == (
        cast.township_b.pk,
        cast.cell_a1.pk,
        cast.plot_a2.pk,
    )
    assert tree.tree_is_valid(cast.ruian)


def test_ancestor_columns_of_a_plot_and_of_a_township(cast):
    from grids import scoping

    assert scoping.ancestor_columns(cast.plot_a1) == {
        "tenant_id": cast.ruian.pk,
        "city_id": cast.city.pk,
        "township_id": cast.township_a.pk,
        "cell_id": cast.cell_a1.pk,
        "plot_id": cast.plot_a1.pk,
    }
    assert scoping.ancestor_columns(cast.township_b) == {
        "tenant_id": cast.ruian.pk,
        "city_id": cast.city.pk,
        "township_id": cast.township_b.pk,
        "cell_id": None,
        "plot_id": None,
    }
