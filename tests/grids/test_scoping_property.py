"""The scoped set equals the set found by walking the tree, for random trees and random grants."""

from __future__ import annotations

from django.db import transaction
from guardian.shortcuts import assign_perm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids import scoping, tree
from grids.models import GridNode, Household, Kind
from grids.services import grant_assign
from grids.tree import NodeSpec
from teams.models import User

KIND_AT = {
    1: [Kind.STREET, Kind.TOWN, Kind.DEVZONE],
    2: [Kind.VILLAGE, Kind.COMMUNITY, Kind.ENTERPRISE],
    3: [Kind.PLOT],
}


def _specs(draw, level: int, prefix: str) -> list[NodeSpec]:
    if level > 3:
        return []
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        code = f"{prefix}{i}"
        kind = draw(st.sampled_from(KIND_AT[level]))
        out.append(NodeSpec(kind, code, f"n{code}", children=_specs(draw, level + 1, code)))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scoped_nodes_and_rows_equal_a_walk_of_the_tree(db, data):
    with transaction.atomic():
        tenant = tree.tenant_create(name="随机市", code="990001")
        decoy = tree.tenant_create(name="他市", code="990002")
        root = tree.tenant_root(tenant)
        tree.subtree_bulk_create(parent=root, specs=_specs(data.draw, 1, "9"))
        tree.subtree_bulk_create(parent=tree.tenant_root(decoy), specs=[NodeSpec(Kind.TOWN, "8", "外镇")])
        nodes = list(GridNode.objects.filter(tenant=tenant))
        parent_of = {n.pk: n.parent_id for n in nodes}
        by_id = {n.pk: n for n in nodes}
        for n in nodes:
            if n.level == 3:
                Household.objects.create(
                    tenant=tenant,
                    city=root,
                    township_id=parent_of[n.parent_id],
                    cell_id=n.parent_id,
                    plot=n,
                    number=f"H{n.code}",
                )
        user = User.objects.create_user(username="probe", tenant=tenant)
        granted = data.draw(st.lists(st.sampled_from(sorted(by_id)), max_size=4, unique=True))
        for pk in granted:
            grant_assign(actor=None, user=user, perms=["view_gridnode"], node=by_id[pk])
        # A grant in another city must never count, even if it were written by mistake.
        foreign = GridNode.objects.get(tenant=decoy, code="8")
        assign_perm("grids.view_gridnode", user, foreign)
        scoping.forget(user)

        def walk(pk: int | None) -> bool:
            while pk is not None:
                if pk in granted:
                    return True
                pk = parent_of[pk]
            return False

        expected_nodes = {pk for pk in by_id if walk(pk)}
        assert set(scoping.scope_nodes(user).values_list("pk", flat=True)) == expected_nodes
        expected_rows = set(
            Household.objects.filter(tenant=tenant, plot_id__in=expected_nodes).values_list("pk", flat=True)
        )
        assert set(
            scoping.scope_rows(user, "view_gridnode", Household.objects.all()).values_list("pk", flat=True)
        ) == (expected_rows)
        for pk, node in by_id.items():
            assert scoping.can(user, "view_gridnode", node) == (pk in expected_nodes)
        assert not scoping.can(user, "view_gridnode", foreign)
        transaction.set_rollback(True)
