"""The registry in /admin/: scoped, read-only, and the access log cannot be edited or deleted."""

from __future__ import annotations

from django.contrib import admin
from django.test import Client

import grids.registry.admin  # noqa: F401 - registered by grids/admin.py; imported here too so this runs alone
from grids.registry import services
from grids.registry.models import PersonalDataAccess, Resident

from ..conftest import PASSWORD


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_township_admin_sees_only_own_households_in_admin(cast, people):
    response = login(cast.township_a_admin).get("/admin/grids/household/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "JS-0001" in body and "LB-0001" not in body
    assert login(cast.township_a_admin).get(f"/admin/grids/household/{people.h3.pk}/change/").status_code in (
        302,
        403,
        404,
    )
    assert login(cast.city_admin).get(f"/admin/grids/household/{people.h3.pk}/change/").status_code == 200


def test_registry_admin_is_read_only_and_shows_numbers_masked(cast, people, rf):
    request = rf.get("/admin/")
    request.user = cast.city_admin
    for model in (Resident, PersonalDataAccess):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
    body = login(cast.city_admin).get(f"/admin/grids/resident/{people.r1.pk}/change/").content.decode()
    assert people.r1.id_number_masked in body and people.r1.id_number_enc not in body


def test_access_log_admin_cannot_delete(cast, people):
    services.personal_data_reveal(actor=cast.city_admin, resident=people.r1, reason="核对身份")
    entry = PersonalDataAccess.objects.get()
    client = login(cast.city_admin)
    assert client.get("/admin/grids/personaldataaccess/").status_code == 200
    assert (
        client.post(f"/admin/grids/personaldataaccess/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert PersonalDataAccess.objects.filter(pk=entry.pk).exists()
