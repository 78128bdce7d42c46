"""The audit log: admin changes (grants included) recorded append-only, read only within one's subtree."""

import json

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from grids.audit import services as audit
from grids.audit.models import Action, AuditEntry
from grids.models import GridNode
from teams.models import User
from teams.roles import ROLE_PERMS, Role
from teams.services import user_create
from tests.conftest import PASSWORD


def _rename_cell_a1(client, cast, name="九三新村"):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:grids_gridnode_change", args=[cast.cell_a1.pk])
    response = client.post(
        url, {"kind": "village", "code": cast.cell_a1.code, "name": name, "boundary": "null"}
    )
    assert response.status_code == 302
    return AuditEntry.objects.filter(object_type="grids.gridnode", object_id=str(cast.cell_a1.pk)).latest(
        "id"
    )


def _township_b_admin(cast):
    return user_create(
        actor=None,
        username="tangxia_admin",
        home_node=cast.township_b,
        role=Role.TOWNSHIP_ADMIN,
        password=PASSWORD,
        full_name="塘下镇 郑主任",
    )


def test_admin_change_is_recorded_with_its_node_and_field_names_only(client, cast):
    entry = _rename_cell_a1(client, cast)
    assert entry.action == Action.CHANGE
    assert entry.actor_id == cast.township_a_admin.pk
    assert (entry.city_id, entry.township_id, entry.cell_id) == (
        cast.city.pk,
        cast.township_a.pk,
        cast.cell_a1.pk,
    )
    assert entry.details["fields"]  # the changed field's name
    assert "九三新村" not in json.dumps(entry.details, ensure_ascii=False)  # never the value


def test_township_b_admin_cannot_see_township_a_entries(client, cast):
    entry = _rename_cell_a1(client, cast)
    detail = reverse("audit-detail", args=[entry.pk])
    client.force_login(_township_b_admin(cast))
    assert client.get(reverse("audit-list")).json()["results"] == []
    assert client.get(detail).status_code == 404
    page = client.get(reverse("audit:list"))
    assert page.status_code == 200 and entry not in page.context["entries"]
    # The township's own administrator, and the city's, read it.
    for reader in (cast.township_a_admin, cast.city_admin):
        client.force_login(reader)
        assert client.get(detail).status_code == 200
        assert [e["id"] for e in client.get(reverse("audit-list")).json()["results"]] == [entry.pk]
        assert client.get(reverse("audit:list")).context["entries"] == [entry]


def test_another_city_and_staff_without_admin_rights_see_nothing(client, cast):
    entry = _rename_cell_a1(client, cast)
    for reader in (cast.other_tenant_admin, cast.township_a_staff, cast.department_user):
        client.force_login(reader)
        assert client.get(reverse("audit-list")).json()["results"] == []
        assert client.get(reverse("audit-detail", args=[entry.pk])).status_code == 404
        assert client.get(reverse("audit:list")).context["entries"] == []


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    assert client.get(reverse("audit:list")).status_code == 302
    assert client.get(reverse("audit-list")).status_code in (401, 403)


def test_person_created_in_admin_is_recorded_with_the_rights_given(client, cast):
    client.force_login(cast.township_a_admin)
    response = client.post(
        reverse("admin:teams_user_add"),
        {
            "username": "newcomer",
            "full_name": "新人",
            "home_node": cast.cell_a2.pk,
            "role": Role.TOWNSHIP_STAFF,
            "password1": "Gr1d-Newcomer-2026!",
            "password2": "Gr1d-Newcomer-2026!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="newcomer")
    entry = AuditEntry.objects.get(object_type="teams.user", object_id=str(created.pk))
    assert entry.action == Action.ADD
    assert entry.cell_id == cast.cell_a2.pk
    assert entry.details["role"] == Role.TOWNSHIP_STAFF
    assert set(entry.details["rights"]) == set(ROLE_PERMS[Role.TOWNSHIP_STAFF])
    assert entry.details["node"] == cast.cell_a2.pk
    assert "Gr1d-Newcomer" not in json.dumps(entry.details)


def test_password_reset_in_admin_is_recorded_without_the_password(client, cast):
    client.force_login(cast.township_a_admin)
    url = reverse("admin:auth_user_password_change", args=[cast.village_member.pk])
    response = client.post(url, {"password1": "Lamp-Harbor-Kite-77", "password2": "Lamp-Harbor-Kite-77"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="teams.user", object_id=str(cast.village_member.pk))
    assert entry.action == Action.CHANGE
    text = json.dumps(entry.details)
    assert "Lamp-Harbor" not in text and User.objects.get(pk=cast.village_member.pk).password not in text


def test_deleted_node_keeps_its_entry_readable_above_it(client, cast):
    client.force_login(cast.township_a_admin)
    plot_pk = cast.plot_a3.pk
    response = client.post(reverse("admin:grids_gridnode_delete", args=[plot_pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not GridNode.objects.filter(pk=plot_pk).exists()
    entry = AuditEntry.objects.get(object_type="grids.gridnode", object_id=str(plot_pk))
    assert entry.action == Action.DELETE and entry.township_id == cast.township_a.pk
    assert client.get(reverse("audit-detail", args=[entry.pk])).status_code == 200


def test_details_keep_only_named_keys(cast):
    entry = audit.audit_record(
        actor=cast.city_admin,
        action=Action.CHANGE,
        obj=cast.cell_a1,
        node=cast.cell_a1,
        details={"fields": ["name"], "id_number": "330381199001011234", "phone": "13800000000"},
    )
    assert entry is not None and entry.details == {"fields": ["name"]}


def test_audit_list_query_budget(client, cast, django_assert_max_num_queries):
    for n in range(3):
        _rename_cell_a1(client, cast, name=f"九三村{n}")
    client.force_login(cast.township_a_admin)
    # user, the user's grants (one query), the page of entries with their township and cell; the
    # session comes from the cache
    with django_assert_max_num_queries(3):
        body = client.get(reverse("audit-list")).json()
    assert len(body["results"]) == 3
    # the same three, and the header's count of unread inbox items
    with django_assert_max_num_queries(4):
        assert len(client.get(reverse("audit:list")).context["entries"]) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_refuses_to_edit_or_delete_an_entry(client):
    from tests.conftest import build_cast

    cast = build_cast()
    entry = _rename_cell_a1(client, cast)
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(object_repr="改掉"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_node_added_in_admin_is_recorded_at_the_new_node(client, cast):
    client.force_login(cast.township_a_admin)
    response = client.post(
        reverse("admin:grids_gridnode_add"),
        {"parent": cast.cell_a1.pk, "kind": "plot", "code": "P9", "name": "新片", "boundary": "null"},
    )
    assert response.status_code == 302
    plot = GridNode.objects.get(code="P9")
    entry = AuditEntry.objects.get(object_type="grids.gridnode", object_id=str(plot.pk))
    assert entry.action == Action.ADD
    assert (entry.township_id, entry.cell_id, entry.plot_id) == (cast.township_a.pk, cast.cell_a1.pk, plot.pk)
