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
