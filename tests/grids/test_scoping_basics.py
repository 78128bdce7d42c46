from grids import scoping
from grids.models import GridNode


def test_township_staff_sees_only_their_township_subtree(cast):
    seen = set(scoping.scope_nodes(cast.township_a_staff).values_list("pk", flat=True))
    expected = {
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.cell_a2.pk,
        cast.plot_a1.pk,
        cast.plot_a2.pk,
        cast.plot_a3.pk,
    }
    assert seen == expected
    assert set(scoping.scope_nodes(cast.city_admin).values_list("pk", flat=True)) == set(
        GridNode.objects.filter(tenant=cast.ruian).values_list("pk", flat=True)
    )
