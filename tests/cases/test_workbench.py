"""The workbench (工作台) as each role sees it: counts that open the list they count, in scope, at a
constant number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case
from tests.cases.conftest import record


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts(response) -> dict[str, tuple[int, str]]:
    """{queue name: (count, href)} from the rendered workbench."""
    found = {}
    html = response.content.decode()
    for href, count in re.findall(
        r'<a class="count-item[^"]*" href="([^"]+)">\s*<span class="count">(\d+)</span>', html
    ):
        found[href.rsplit("queue=", 1)[-1]] = (int(count), href)
    return found


def listed_ids(client: Client, href: str) -> set[int]:
    response = client.get(href)
    assert response.status_code == 200
    return {c["id"] for c in response.context["cases"]}


@pytest.fixture
def township_a_cases(cast, units):
    """One case in each of the township's queues, all in Shangwang street, plus one in Tangxia."""
    staff = cast.township_a_staff
    fresh = record(cast, title="待派遣的纠纷")
    returned = record(cast, title="被退回的纠纷")
    services.case_dispatch(actor=staff, case=returned, responsible_unit=units.police)
    services.case_return(actor=cast.department_user, case=returned, reason="事实不清")
    to_verify = record(cast, title="待核查的纠纷")
    services.case_dispatch(actor=staff, case=to_verify, responsible_unit=units.police)
    services.case_accept(actor=cast.department_user, case=to_verify)
    services.case_submit(actor=cast.department_user, case=to_verify, resolution="已调解")
    near = record(cast, title="临期的纠纷")
    services.case_dispatch(actor=staff, case=near, responsible_unit=units.police)
    services.case_accept(actor=cast.department_user, case=near)
    now = timezone.now()
    Case.objects.filter(pk=near.pk).update(
        yellow_at=now - dt.timedelta(hours=1), due_at=now + dt.timedelta(hours=2)
    )
    overdue = record(cast, title="超期的纠纷")
    services.case_dispatch(actor=staff, case=overdue, responsible_unit=units.police)
    Case.objects.filter(pk=overdue.pk).update(
        yellow_at=now - dt.timedelta(days=2), due_at=now - dt.timedelta(days=1)
    )
    elsewhere = record(cast, node=cast.plot_b1, actor=cast.township_b_staff, title="塘下的纠纷")
    return type(
        "Cases",
        (),
        {
            "fresh": fresh,
            "returned": returned,
            "to_verify": to_verify,
            "near": near,
            "overdue": overdue,
            "elsewhere": elsewhere,
        },
    )


def test_township_staff_counts_open_the_lists_they_count(cast, units, township_a_cases):
    c = township_a_cases
    client = web(cast.township_a_staff)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    found = counts(response)
    expected = {
        "to_dispatch": {c.fresh.pk},
        "returned": {c.returned.pk},
        "to_verify": {c.to_verify.pk},
        "near": {c.near.pk},
        "overdue": {c.overdue.pk},
    }
    for queue, ids in expected.items():
        count, href = found[queue]
        assert count == len(ids), queue
        assert listed_ids(client, href) == ids, queue
    assert "管理后台" not in response.content.decode()  # staff, not an administrator


def test_another_township_counts_none_of_these_and_its_lists_show_none(cast, units, township_a_cases):
    client = web(cast.township_b_staff)
    found = counts(client.get(reverse("home")))
    assert found["to_dispatch"][0] == 1  # only Tangxia's own case
    assert listed_ids(client, found["to_dispatch"][1]) == {township_a_cases.elsewhere.pk}
    for queue in ("returned", "to_verify", "near", "overdue"):
        assert found[queue][0] == 0
        assert listed_ids(client, found[queue][1]) == set()
    # The same request as the entitled township sees its own.
    assert township_a_cases.fresh.pk in listed_ids(
        web(cast.township_a_staff), reverse("cases:list") + "?queue=to_dispatch"
    )


def test_department_staff_see_what_was_sent_to_their_unit(cast, units, township_a_cases):
    c = township_a_cases
    client = web(cast.department_user)
    response = client.get(reverse("home"))
    found = counts(response)
    assert "to_dispatch" not in found  # they dispatch nothing
    assert listed_ids(client, found["unit_new"][1]) == {c.overdue.pk}  # dispatched, not accepted
    assert listed_ids(client, found["unit_in_hand"][1]) == {c.near.pk}
    assert listed_ids(client, found["unit_near"][1]) == {c.near.pk}
    assert listed_ids(client, found["unit_overdue"][1]) == {c.overdue.pk}
    assert found["unit_new"][0] == 1 and found["unit_in_hand"][0] == 1
    assert "市公安局" in response.content.decode()


def test_assisting_parts_are_counted_for_the_assisting_unit(cast, units, case_a1):
    services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.shangwang_office,
        assists=[services.AssistSpec(units.police, "现场勘查")],
    )
    client = web(cast.department_user)
    found = counts(client.get(reverse("home")))
    assert found["assisting"][0] == 1
    assert listed_ids(client, found["assisting"][1]) == {case_a1.pk}


def test_service_team_member_sees_their_plots_and_cases(cast, units):
    from grids.models import GridNode

    GridNode.objects.filter(pk=cast.plot_a1.pk).update(responsible=cast.village_member)
    mine = record(cast, title="我登记的纠纷")
    in_my_plot = record(cast, actor=cast.township_a_staff, title="片格里的纠纷")
    record(cast, node=cast.plot_a2, actor=cast.township_a_staff, title="别的片格")
    client = web(cast.village_member)
    response = client.get(reverse("home"))
    html = response.content.decode()
    found = counts(response)
    assert "to_dispatch" not in found and "unit_new" in found  # the member works in the Jiusan office
    assert listed_ids(client, found["mine"][1]) == {mine.pk}
    assert listed_ids(client, found["my_plots"][1]) == {mine.pk, in_my_plot.pk}
    assert reverse("cases:new") in html  # recording is one click away


def test_administrators_get_the_admin_link(cast, units):
    response = web(cast.township_a_admin).get(reverse("home"))
    html = response.content.decode()
    assert reverse("admin:index") in html and "to_dispatch" in counts(response)


def test_the_grid_tree_is_one_click_away(cast):
    client = web(cast.village_member)
    assert reverse("grid_home") in client.get(reverse("home")).content.decode()
    response = client.get(reverse("grid_home"))
    assert response.status_code == 302 and response.url == reverse("grids:node", args=[cast.cell_a1.pk])
    # Department staff hold no grid: the grid link takes them to their cases.
    assert web(cast.department_user).get(reverse("grid_home")).url == reverse("cases:list")


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_workbench_costs_the_same_queries_for_one_case_or_many(
    cast, units, township_a_cases, django_assert_max_num_queries
):
    """The whole page (every app's panels) costs as many queries with 16 cases to dispatch as with 1."""
    client = web(cast.township_a_staff)
    client.get(reverse("home"))  # warm the session
    with django_assert_max_num_queries(60) as first:
        client.get(reverse("home"))
    for n in range(15):
        record(cast, title=f"又一件{n}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = client.get(reverse("home"))
    assert counts(response)["to_dispatch"][0] == 16


def test_the_cases_panels_cost_one_query_per_count(cast, units, township_a_cases, django_assert_num_queries):
    from django.test import RequestFactory

    from cases import panels

    request = RequestFactory().get("/")
    request.user = cast.township_a_staff
    panels.managed_cases(request), panels.unit_cases(request)  # grants and units read and cached
    # 5 counts of the tier's queues, 5 counts of the unit's queues (the assisting count carries its
    # part ids as a subquery): one query per count, nothing else.
    with django_assert_num_queries(10):
        managed = panels.managed_cases(request)
        unit = panels.unit_cases(request)
        mine = panels.my_cases(request)  # a dispatcher has no member panel: no query
    assert managed is not None and unit is not None and mine is None
    assert [i.count for i in managed.items] == [1, 1, 1, 1, 1]


def test_each_count_is_one_query(cast, units, django_assert_num_queries):
    from cases import selectors

    user = cast.township_a_staff
    selectors.managed_q(user)  # grants read once and cached on the user
    with django_assert_num_queries(1):
        selectors.queue_count(user, "overdue")


@pytest.mark.postgres
def test_every_count_is_answered_from_an_index(cast, units, township_a_cases):
    """With sequential scans priced out, every queue's count still finds an index to read: without
    one PostgreSQL would fall back to a Seq Scan anyway. (Which index wins depends on the table's
    size; on the demo city it is the partial index of open cases.)"""
    from django.db import connection

    from cases import selectors

    users = {"managed": cast.township_a_staff, "unit": cast.department_user, "mine": cast.village_member}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, queue in selectors.QUEUES.items():
            user = users.get(queue.whose, cast.department_user)
            q = selectors.queue_q(user, name)
            if q is None:
                continue
            sql, params = Case.objects.filter(q).values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) s", params)  # noqa: S608 - Django-compiled
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, (name, plan)
