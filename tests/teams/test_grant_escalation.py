"""Nobody grants a right they do not hold at that node, nor a role whose rights exceed theirs.

The rule lives in `grids.services.grant_check`, which the one granting service (`grant_assign`) and
`teams.services.user_create` call; the user admin asks it as a form error. The property test walks
every pair of roles and every pair of nodes of the cast's tree and compares the service's answer with
an expectation computed independently: from the role table and from the tree's parent links.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from grids import scoping
from grids.services import grant_assign
from teams.models import User
from teams.roles import ROLE_PERMS, Role
from teams.services import user_create

ALL_PERMS = sorted({p for perms in ROLE_PERMS.values() for p in perms})


def _covers(ancestor, node) -> bool:
    """Is `ancestor` the node itself or above it? Walked through parent links, not tree ranges."""
    while node is not None:
        if node.pk == ancestor.pk:
            return True
        node = node.parent
    return False


def _expected_allowed(actor_role, actor_node, target_role, target_node) -> bool:
    held = set(ROLE_PERMS[actor_role])
    return (
        actor_node.tenant_id == target_node.tenant_id
        and _covers(actor_node, target_node)
        and "manage_grid" in held
        and set(ROLE_PERMS[target_role]) <= held
    )


class _Rollback(Exception):
    pass


@pytest.mark.django_db
def test_no_role_pair_and_node_pair_grants_beyond_the_granter(cast):
    actor_nodes = [cast.city, cast.township_a, cast.cell_a1, cast.plot_a1]
    target_nodes = [
        cast.city,
        cast.township_a,
        cast.township_b,
        cast.cell_a1,
        cast.cell_b1,
        cast.plot_a1,
        cast.other_city,
    ]
    all_nodes = [*target_nodes, cast.cell_a2, cast.plot_a2, cast.plot_a3, cast.plot_b1, cast.other_plot]
    checked = allowed_count = 0
    for i, (actor_role, actor_node) in enumerate(itertools.product(Role.values, actor_nodes)):
        actor = user_create(actor=None, username=f"actor{i}", home_node=actor_node, role=actor_role)
        for j, (target_role, target_node) in enumerate(itertools.product(Role.values, target_nodes)):
            expected = _expected_allowed(actor_role, actor_node, target_role, target_node)
            try:
                with transaction.atomic():
                    created = user_create(
                        actor=actor, username=f"target{i}_{j}", home_node=target_node, role=target_role
                    )
                    # Whatever was created holds nothing the actor does not hold, anywhere.
                    for perm, node in itertools.product(ALL_PERMS, all_nodes):
                        if scoping.can(created, perm, node):
                            assert scoping.can(actor, perm, node), (actor_role, target_role, perm, node)
                    raise _Rollback
            except _Rollback:
                allowed = True
            except ValidationError:
                allowed = False
            assert allowed == expected, (actor_role, actor_node.name, target_role, target_node.name)
            checked += 1
            allowed_count += allowed
    assert not User.objects.filter(username__startswith="target").exists()
    # The walk covered both answers: some grants are legitimate, most are refused.
    assert checked == 5 * 4 * 5 * 7 and 0 < allowed_count < checked


def test_township_admin_cannot_grant_a_right_they_lack_even_inside_their_township(cast):
    target = cast.village_member
    with pytest.raises(ValidationError) as exc:
        grant_assign(
            actor=cast.township_a_admin, user=target, perms=["view_personal_data"], node=cast.cell_a1
        )
    assert "role" in exc.value.message_dict
    assert not scoping.can_now(target, "view_personal_data", cast.cell_a1)
    # The city administrator holds that right, and may give it.
    grant_assign(actor=cast.city_admin, user=target, perms=["view_personal_data"], node=cast.cell_a1)
    assert scoping.can_now(target, "view_personal_data", cast.cell_a1)


def _add_form(node, role, username="newcomer"):
    return {
        "username": username,
        "full_name": "新人",
        "home_node": node.pk,
        "role": role,
        "password1": "Gr1d-Newcomer-2026!",
        "password2": "Gr1d-Newcomer-2026!",
        "usable_password": "true",
    }


def test_township_admin_cannot_create_a_city_administrator_in_the_user_admin(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:teams_user_add")
    response = client.post(url, _add_form(cast.township_a, Role.CITY_ADMIN))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not User.objects.filter(username="newcomer").exists()
    # The same form with a role within theirs creates the person.
    response = client.post(url, _add_form(cast.township_a, Role.TOWNSHIP_STAFF))
    assert response.status_code == 302
    created = User.objects.get(username="newcomer")
    assert scoping.can_now(created, "manage_cases", cast.township_a)
    assert not scoping.can_now(created, "view_personal_data", cast.township_a)


def test_escalated_account_cannot_reveal_personal_data(client, cast):
    """The reported path: create a city-admin-role user, sign in as them, reveal. It stops at step one."""
    client.force_login(cast.township_a_admin)
    client.post(reverse("admin:teams_user_add"), _add_form(cast.township_a, Role.CITY_ADMIN, "escalated"))
    assert not User.objects.filter(username="escalated").exists()
    assert not client.login(username="escalated", password="Gr1d-Newcomer-2026!")


def test_township_admin_cannot_take_over_a_person_whose_rights_exceed_theirs(client, cast):
    # Someone homed in the township but holding a right the township administrator lacks.
    holder = user_create(actor=None, username="auditor", home_node=cast.township_a, role=Role.VIEWER)
    grant_assign(actor=None, user=holder, perms=["view_personal_data"], node=cast.township_a)
    client.force_login(cast.township_a_admin)
    change = reverse("admin:teams_user_change", args=[holder.pk])
    password = reverse("admin:auth_user_password_change", args=[holder.pk])
    response = client.post(password, {"password1": "Take-0ver-2026!", "password2": "Take-0ver-2026!"})
    assert response.status_code == 403
    holder.refresh_from_db()
    assert not holder.check_password("Take-0ver-2026!")
    assert (
        client.post(change, {"username": "auditor", "full_name": "改名", "is_active": ""}).status_code == 403
    )
    holder.refresh_from_db()
    assert holder.full_name == "" and holder.is_active
    # A person within their rights they may still manage.
    staff_change = reverse("admin:teams_user_change", args=[cast.township_a_staff.pk])
    assert client.get(staff_change).status_code == 200
    client.force_login(cast.city_admin)
    assert (
        client.post(password, {"password1": "Take-0ver-2026!", "password2": "Take-0ver-2026!"}).status_code
        == 302
    )


def test_township_admin_cannot_make_someone_staff(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:teams_user_change", args=[cast.township_a_staff.pk])
    page = client.get(url)
    assert "is_staff" not in page.context["adminform"].form.fields
