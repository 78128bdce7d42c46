"""PostgreSQL only: the grid page's reads are bounded by their work, whatever the tree's size.

A page of children counts the cells and plots below each child. With the range open at one end each
child would read the rest of the tree (quadratic in the tree's size); closed, each reads exactly the
nodes it counts. The plans are read with EXPLAIN ANALYZE for their row counts (never their timings):
every scan of the tree is bounded at both ends, and the rows read grow with the tree, not its square.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from grids import scoping, selectors, tree
from grids.models import GridNode, Kind, Level

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _grow(parent: GridNode, townships: int, tag: str) -> None:
    """`townships` towns under `parent`, each with 3 villages of 4 plots (17 nodes a town)."""
    specs = [
        tree.NodeSpec(
            Kind.TOWN,
            f"{tag}{t:03d}",
            f"镇{tag}{t}",
            children=[
                tree.NodeSpec(
                    Kind.VILLAGE,
                    f"{tag}{t:03d}{v}",
                    f"村{tag}{t}-{v}",
                    children=[
                        tree.NodeSpec(Kind.PLOT, f"{tag}{t:03d}{v}{p}", f"片{tag}{t}-{v}-{p}")
                        for p in range(4)
                    ],
                )
                for v in range(3)
            ],
        )
        for t in range(townships)
    ]
    tree.subtree_bulk_create(parent=parent, specs=specs)


def _plan(qs: Any) -> list[dict[str, Any]]:
    """Every node of the query's executed plan, flattened."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE grids_gridnode")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
    root = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def _tree_scans(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in nodes if n.get("Relation Name") == "grids_gridnode" and "Scan" in n["Node Type"]]


def _tree_reads(nodes: list[dict[str, Any]]) -> int:
    """Rows read by the scans of the grid tree (kept or thrown away by a filter), over all loops."""
    return sum(
        (n["Actual Rows"] + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
        for n in _tree_scans(nodes)
    )


def _range_scans_are_closed(nodes: list[dict[str, Any]]) -> bool:
    """Every scan of the tree that starts from a lower bound on lft also has an upper one."""
    conds = [n.get("Index Cond", "") for n in _tree_scans(nodes)]
    return all(("lft <" in c) for c in conds if "lft >" in c)


def test_children_counts_read_only_the_nodes_they_count(cast):
    sizes = []
    for tag, towns in (("S", 10), ("L", 30)):  # the tree is four times larger the second time
        _grow(cast.city, towns, tag)
        cast.city.refresh_from_db()
        children = selectors.node_children(actor=cast.city_admin, node=cast.city)
        nodes = _plan(children)
        assert _range_scans_are_closed(nodes), json.dumps(nodes, ensure_ascii=False)[:4000]
        sizes.append((GridNode.objects.filter(tenant=cast.ruian).count(), _tree_reads(nodes)))
    (small_nodes, small_read), (large_nodes, large_read) = sizes
    assert large_nodes >= 3.8 * small_nodes, sizes
    # Linear: each child's counts read its own subtree (twice: cells, plots), so four times the tree
    # is four times the reads. Open at one end, each child would read the rest of the tree (16x).
    assert large_read <= 4.5 * small_read, sizes
    assert large_read <= 3 * large_nodes, sizes


def test_breadcrumbs_read_one_node_per_level(cast):
    _grow(cast.city, 40, "B")
    plot = GridNode.objects.filter(tenant=cast.ruian, level=Level.PLOT).order_by("-lft").first()
    crumbs = selectors.node_ancestors(actor=cast.city_admin, node=plot)
    assert [n.level for n in crumbs] == [0, 1, 2]
    nodes = _plan(crumbs)
    # Three backward steps of one row, three ancestors by id, the scope check of each.
    assert _tree_reads(nodes) <= 12, json.dumps(nodes, ensure_ascii=False)[:4000]


def test_descendants_range_is_closed(cast):
    _grow(cast.city, 10, "D")
    cast.township_a.refresh_from_db()
    qs = GridNode.objects.filter(scoping.descendants_q(cast.township_a))
    assert set(qs.values_list("pk", flat=True)) == {
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.cell_a2.pk,
        cast.plot_a1.pk,
        cast.plot_a2.pk,
        cast.plot_a3.pk,
    }
    nodes = _plan(qs)
    assert _range_scans_are_closed(nodes) and _tree_reads(nodes) == 6
