"""Concurrent tree writes leave valid trees (PostgreSQL: real locks, real threads)."""

import threading

import pytest
from django.db import connection

from grids import tree
from grids.models import GridNode, Kind, Tenant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_together(jobs):
    barrier = threading.Barrier(len(jobs))
    errors = []

    def wrap(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_children_added_under_one_parent_at_once_leave_a_valid_tree():
    tenant = tree.tenant_create(name="并发市", code="990100")
    township = tree.node_create(parent=tree.tenant_root(tenant), kind=Kind.TOWN, code="T1", name="镇")
    jobs = [
        (lambda i=i: tree.node_create(parent=township.pk, kind=Kind.VILLAGE, code=f"V{i}", name=f"村{i}"))
        for i in range(12)
    ]
    assert _run_together(jobs) == []
    assert GridNode.objects.filter(parent=township).count() == 12
    assert tree.tree_is_valid(tenant)


def test_the_same_code_added_at_once_wins_once():
    tenant = tree.tenant_create(name="并发市", code="990101")
    township = tree.node_create(parent=tree.tenant_root(tenant), kind=Kind.TOWN, code="T1", name="镇")
    jobs = [
        (lambda: tree.node_create(parent=township.pk, kind=Kind.VILLAGE, code="SAME", name="同码村"))
        for _ in range(6)
    ]
    errors = _run_together(jobs)
    assert len(errors) == 5 and all("code" in e.message_dict for e in errors)
    assert GridNode.objects.filter(tenant=tenant, code="SAME").count() == 1
    assert tree.tree_is_valid(tenant)


def test_tenants_created_at_once_get_separate_trees():
    jobs = [(lambda i=i: tree.tenant_create(name=f"市{i}", code=f"99020{i}")) for i in range(8)]
    assert _run_together(jobs) == []
    tenants = list(Tenant.objects.filter(code__startswith="99020"))
    assert len(tenants) == 8
    assert len({tree.tenant_root(t).tree_id for t in tenants}) == 8
    assert all(tree.tree_is_valid(t) for t in tenants)


def test_api_requests_adding_villages_under_one_township_at_once_leave_a_valid_tree():
    from rest_framework.test import APIClient

    from teams.models import User
    from teams.roles import Role
    from teams.services import user_create

    tenant = tree.tenant_create(name="并发市", code="990102")
    township = tree.node_create(parent=tree.tenant_root(tenant), kind=Kind.TOWN, code="T1", name="镇")
    admin = user_create(actor=None, username="concurrent_admin", home_node=township, role=Role.TOWNSHIP_ADMIN)
    statuses = []

    def post(i):
        client = APIClient()
        # Each request loads its own user, as a signed-in request does (grants are cached on it).
        client.force_authenticate(User.objects.get(pk=admin.pk))
        body = {"parent": township.pk, "kind": "village", "code": f"A{i}", "name": f"村{i}"}
        statuses.append(client.post("/api/v1/grids/", body, format="json").status_code)

    assert _run_together([(lambda i=i: post(i)) for i in range(10)]) == []
    assert statuses == [201] * 10
    assert tree.tree_is_valid(tenant)
