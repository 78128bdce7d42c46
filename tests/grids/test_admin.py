"""/admin/ is scoped: a township administrator sees and edits only their township."""

from django.urls import reverse

from grids import scoping, tree
from grids.models import GridNode
from teams.models import User


def changelist_ids(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def test_township_admin_sees_only_their_township_in_the_grid_admin(client, cast):
    client.force_login(cast.township_a_admin)
    response = client.get(reverse("admin:grids_gridnode_changelist"))
    assert response.status_code == 200
    assert changelist_ids(response) == {
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.cell_a2.pk,
        cast.plot_a1.pk,
        cast.plot_a2.pk,
        cast.plot_a3.pk,
    }


def test_township_admin_cannot_open_another_township_node(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:grids_gridnode_change", args=[cast.cell_b1.pk])
    assert client.get(url).status_code in (302, 404)
    assert client.post(url, {"kind": "village", "code": "Z", "name": "改名"}).status_code in (302, 404)
    assert GridNode.objects.get(pk=cast.cell_b1.pk).name == "林北村"
    client.force_login(cast.city_admin)
    assert client.get(url).status_code == 200


def test_township_admin_edits_a_node_in_their_township_through_the_tree(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:grids_gridnode_change", args=[cast.cell_a1.pk])
    response = client.post(
        url, {"kind": "village", "code": cast.cell_a1.code, "name": "九三新村", "boundary": "null"}
    )
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    assert GridNode.objects.get(pk=cast.cell_a1.pk).name == "九三新村"
    assert tree.tree_is_valid(cast.ruian)


def test_township_admin_adds_a_plot_and_cannot_place_it_elsewhere(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:grids_gridnode_add")
    bad = client.post(
        url, {"parent": cast.cell_b1.pk, "kind": "plot", "code": "P1", "name": "越界片", "boundary": "null"}
    )
    assert bad.status_code == 200 and "parent" in bad.context["adminform"].form.errors
    wrong_kind = client.post(
        url, {"parent": cast.cell_a1.pk, "kind": "village", "code": "P1", "name": "错类", "boundary": "null"}
    )
    assert "kind" in wrong_kind.context["adminform"].form.errors
    good = client.post(
        url, {"parent": cast.cell_a1.pk, "kind": "plot", "code": "P1", "name": "新片", "boundary": "null"}
    )
    assert good.status_code == 302
    assert GridNode.objects.get(code="P1").parent_id == cast.cell_a1.pk
    assert tree.tree_is_valid(cast.ruian)


def test_township_staff_without_admin_role_cannot_use_admin(client, cast):
    client.force_login(cast.township_a_staff)
    assert client.get(reverse("admin:grids_gridnode_changelist")).status_code == 302


def test_tenants_are_for_platform_superusers_only(client, cast):
    client.force_login(cast.city_admin)
    assert client.get(reverse("admin:grids_tenant_changelist")).status_code == 403
    root = User.objects.create_superuser(username="root", password="x-long-password-1")
    client.force_login(root)
    assert client.get(reverse("admin:grids_tenant_changelist")).status_code == 200


def test_user_admin_lists_only_people_of_the_township(client, cast):
    client.force_login(cast.township_a_admin)
    response = client.get(reverse("admin:teams_user_changelist"))
    assert changelist_ids(response) == {
        cast.township_a_staff.pk,
        cast.township_a_admin.pk,
        cast.village_member.pk,
    }
    assert client.get(reverse("admin:teams_user_change", args=[cast.township_b_staff.pk])).status_code in (
        302,
        404,
    )


def test_user_admin_creates_a_village_member_with_rights_at_home(client, cast):
    client.force_login(cast.township_a_admin)
    response = client.post(
        reverse("admin:teams_user_add"),
        {
            "username": "new_member",
            "full_name": "新队员",
            "home_node": cast.cell_a2.pk,
            "role": "cell_member",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new_member")
    assert (user.tenant_id, user.home_node_id, user.is_staff) == (cast.ruian.pk, cast.cell_a2.pk, False)
    assert scoping.can(user, "record_case", cast.plot_a3) and not scoping.can(
        user, "record_case", cast.plot_a1
    )
