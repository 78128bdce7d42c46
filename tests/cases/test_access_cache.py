"""Grants and units are kept between requests under the user's access version, and every change that
feeds them (a grant, a membership, the tree) is seen by the very next request."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from grids import scoping, tree
from grids.models import Kind
from grids.services import grant_assign, grant_remove
from teams.models import Membership, User
from teams.services import membership_add
from teams.units import units_of

from .conftest import record

pytestmark = pytest.mark.django_db

VIEW = scoping.VIEW


def fresh(user: User) -> User:
    """The user as the next request loads it (a new object: nothing kept from this one)."""
    return User.objects.get(pk=user.pk)


def test_a_later_request_reads_grants_and_units_from_the_cache(cast, units, django_assert_num_queries):
    first = fresh(cast.township_a_staff)
    scoping.grants(first, VIEW)
    units_of(first)
    later = fresh(cast.township_a_staff)
    with django_assert_num_queries(0):
        assert scoping.grants(later, VIEW) == scoping.grants(first, VIEW)
        assert units_of(later) == units_of(first)


def test_list_requests_after_the_first_cost_user_and_page_only(cast, units, django_assert_num_queries):
    record(cast)
    client = Client()
    client.force_login(cast.township_a_staff)
    assert client.get("/api/v1/cases/").status_code == 200
    assert client.get(reverse("cases:list")).status_code == 200
    # user (1), the page of cases (1): the session, grants and units come from the cache
    with django_assert_num_queries(2):
        assert client.get("/api/v1/cases/").status_code == 200
    # user, the page's rows, the filter's total count (exact up to 1,000), the header's inbox count
    with django_assert_num_queries(4):
        assert client.get(reverse("cases:list")).status_code == 200


def test_a_signed_out_session_is_not_served_from_the_cache(cast):
    client = Client()
    client.force_login(cast.township_a_staff)
    assert client.get("/api/v1/cases/").status_code == 200
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # the old cookie, kept by someone
    assert client.get("/api/v1/cases/").status_code == 403


def test_a_grant_given_between_requests_is_seen_by_the_next(cast):
    assert not scoping.can(fresh(cast.township_b_staff), VIEW, cast.township_a)
    grant_assign(actor=cast.city_admin, user=cast.township_b_staff, perms=[VIEW], node=cast.township_a)
    assert scoping.can(fresh(cast.township_b_staff), VIEW, cast.township_a)


def test_a_grant_removed_between_requests_is_gone_in_the_next(cast):
    assert scoping.can(fresh(cast.township_a_staff), VIEW, cast.cell_a1)
    grant_remove(actor=cast.city_admin, user=cast.township_a_staff, perms=[VIEW], node=cast.township_a)
    assert not scoping.can(fresh(cast.township_a_staff), VIEW, cast.cell_a1)
    assert scoping.can(fresh(cast.city_admin), VIEW, cast.cell_a1)


def test_a_rolled_back_grant_is_never_served(cast):
    class Abandon(Exception):
        pass

    user = fresh(cast.township_b_staff)
    with pytest.raises(Abandon), transaction.atomic():
        grant_assign(actor=None, user=user, perms=[VIEW], node=cast.township_a)
        assert scoping.can(user, VIEW, cast.township_a)  # kept under the version that rolls back
        raise Abandon
    assert not scoping.can(fresh(cast.township_b_staff), VIEW, cast.township_a)


def test_a_membership_added_or_removed_between_requests_is_seen_by_the_next(cast, units):
    assert units_of(fresh(cast.township_b_staff)) == ()
    membership_add(actor=None, unit=units.police, user=cast.township_b_staff)
    assert [u.pk for u in units_of(fresh(cast.township_b_staff))] == [units.police.pk]
    Membership.objects.filter(user=cast.township_b_staff).delete()
    from teams.units import forget_units

    forget_units(cast.township_b_staff)
    assert units_of(fresh(cast.township_b_staff)) == ()


def test_a_tree_write_gives_the_tenant_new_versions(cast):
    """A new village widens its township's range: a cached grant with the old range would miss it."""
    staff = fresh(cast.township_a_staff)
    assert scoping.grants(staff, VIEW)
    village = tree.node_create(parent=cast.township_a, kind=Kind.VILLAGE, code="330381001099", name="新村")
    assert scoping.can(fresh(cast.township_a_staff), VIEW, village)
    assert not scoping.can(fresh(cast.township_b_staff), VIEW, village)


def test_unit_admin_edit_gives_the_city_new_versions(cast, units):
    """A unit switched off in the admin no longer counts for its members in the next request."""
    assert [u.pk for u in units_of(fresh(cast.department_user))] == [units.police.pk]
    client = Client()
    client.force_login(cast.city_admin)
    change = reverse("admin:teams_unit_change", args=[units.police.pk])
    page = client.get(change)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["is_active"] = ""
    for wrapper in page.context["inline_admin_formsets"]:  # the memberships, when the admin may see them
        inline = wrapper.formset
        data.update({f"{inline.prefix}-{k}": v for k, v in inline.management_form.initial.items()})
        for i, sub in enumerate(inline.initial_forms):
            for name in sub.fields:
                value = sub[name].value()
                data[f"{inline.prefix}-{i}-{name}"] = "" if value is None else value
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert units_of(fresh(cast.department_user)) == ()
