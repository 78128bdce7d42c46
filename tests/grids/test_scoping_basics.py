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


def test_a_grant_to_a_group_holds_for_its_members_on_the_whole_subtree(cast):
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    group = Group.objects.create(name="塘下镇联络组")
    assign_perm("grids.view_gridnode", group, cast.township_b)
    cast.department_user.groups.add(group)
    seen = set(scoping.scope_nodes(cast.department_user).values_list("pk", flat=True))
    assert seen == {cast.township_b.pk, cast.cell_b1.pk, cast.plot_b1.pk}
    # A member of no group still sees nothing.
    assert not scoping.scope_nodes(cast.village_member).filter(pk=cast.township_b.pk).exists()


def test_anonymous_and_inactive_users_see_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    assert not scoping.scope_nodes(AnonymousUser()).exists()
    cast.city_admin.is_active = False
    assert not scoping.scope_nodes(cast.city_admin).exists()


def test_grants_are_read_once_per_request(cast, django_assert_num_queries):
    user = cast.township_a_staff
    scoping.forget(user)
    with django_assert_num_queries(1):
        for node in (cast.cell_a1, cast.plot_b1, cast.other_plot):
            scoping.can(user, "view_gridnode", node)


def test_node_scope_stays_right_when_the_tree_shifts_under_cached_grants(cast):
    """Grants are cached for a request; a tree write committed meanwhile moves lft/rght."""
    from grids import tree
    from grids.models import Kind

    user = cast.township_b_staff
    scoping.grants(user, "view_gridnode")  # read and cached, as early in a request
    # Another request inserts to the left of Tangxia: every range from there on shifts.
    tree.node_create(parent=cast.cell_a2, kind=Kind.PLOT, code="33038100500102", name="上望社区第二片")
    seen = set(scoping.scope_nodes(user).values_list("pk", flat=True))
    assert seen == {cast.township_b.pk, cast.cell_b1.pk, cast.plot_b1.pk}


def test_a_write_check_is_right_when_the_tree_shifts_under_cached_grants(cast):
    """Two plots inserted in Shangwang shift Shangwang's last plot into Tangxia's old range: the
    cached comparison would let Tangxia's staff act on it; the check services use does not."""
    from grids import tree
    from grids.models import GridNode, Kind

    user = cast.township_b_staff
    scoping.grants(user, "record_case")  # cached early in the request
    for code in ("33038100520103", "33038100520104"):
        tree.node_create(parent=cast.cell_a1, kind=Kind.PLOT, code=code, name=code)
    shangwang_plot = GridNode.objects.get(pk=cast.plot_a3.pk)
    tangxia_plot = GridNode.objects.get(pk=cast.plot_b1.pk)
    assert not scoping.can_now(user, "record_case", shangwang_plot)
    assert scoping.can_now(user, "record_case", tangxia_plot)
