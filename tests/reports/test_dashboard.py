"""Dashboards: the figures from cases, visits, assignments and supervision cards; scope; query budget."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, DeadlineAlert, Grade, SupervisionOrder
from grids import tree
from grids.models import Kind
from reports import selectors
from teams import services as team_services
from tests.cases.conftest import record

pytestmark = pytest.mark.django_db


def this_month():
    """Read at each use, not once at collection: a run may cross midnight in Asia/Shanghai."""
    return timezone.localdate().replace(day=1)


def at_month(month: dt.date, day: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(month.year, month.month, day, 10, 0))


def backdate(case: Case, month: dt.date) -> None:
    Case.objects.filter(pk=case.pk).update(created_at=at_month(month))


def close(cast, units, case: Case, satisfaction: str, staff=None) -> Case:
    """Dispatch to the police, accept, submit and close with the residents' answer."""
    staff = staff or cast.township_a_staff
    case_services.case_dispatch(
        actor=staff,
        case=case,
        responsible_unit=units.police,
        responsible_person=cast.department_user,
    )
    case_services.case_accept(actor=cast.department_user, case=case)
    case_services.case_submit(actor=cast.department_user, case=case, resolution="已调解")
    return case_services.case_close(actor=staff, case=case, satisfaction=satisfaction)


@pytest.fixture
def figures(cast, units, field):
    """In township A: 2 incidents this month (one in each cell), one a year ago, one hazard two
    months ago; a petition this month in township B. One case closed satisfied (on time), one closed
    unsatisfied after going overdue; a yellow card in cell A1; one household of plot A1 visited twice."""
    year_ago = selectors.add_months(this_month(), -12)
    i1 = record(cast, kind="incident", sub_kind="burglary", title="入室盗窃")
    i2 = record(
        cast, node=cast.plot_a3, actor=cast.township_a_staff, kind="incident", sub_kind="fight", title="打架"
    )
    old = record(cast, kind="incident", sub_kind="theft", title="盗窃")
    backdate(old, year_ago)
    hazard = record(cast, kind="hazard", sub_kind="fire", title="消防通道堵塞")
    backdate(hazard, selectors.add_months(this_month(), -2))
    petition = record(
        cast, node=cast.plot_b1, actor=cast.city_admin, kind="petition", sub_kind="other", title="信访"
    )
    close(cast, units, i1, "satisfied")
    late = record(cast, kind="dispute", title="邻里纠纷")
    DeadlineAlert.objects.create(tenant=cast.ruian, case=late, deadline_seq=1, level=2)
    close(cast, units, late, "unsatisfied")
    SupervisionOrder.objects.create(
        tenant=cast.ruian, city=cast.city, township=cast.township_a, cell=cast.cell_a1, plot=cast.plot_a1,
        case=late, tier="township", grade=Grade.YELLOW, unit=units.police, key="test-yellow",
        reply_due_at=timezone.now(),
    )  # fmt: skip
    household = field.mine[0]
    for day in (1, 2):
        team_services.visit_record(
            actor=field.member, client_id=uuid.uuid4(), household_id=household.pk,
            visited_on=this_month() + dt.timedelta(days=day - 1),
        )  # fmt: skip
    return {"petition": petition, "i2": i2}


def test_city_dashboard_counts_each_figure_per_township(cast, figures):
    dash = selectors.dashboard(actor=cast.city_admin, node=cast.city, month=this_month())
    rows = {node.name: row for node, row in dash.children}
    a, b = rows["上望街道"], rows["塘下镇"]
    assert (a.incidents, a.hazards, a.petitions) == (2, 0, 0)
    assert (b.incidents, b.petitions) == (0, 1)
    assert (a.closed, a.closed_on_time, a.on_time_rate) == (2, 1, 50.0)
    assert (a.satisfied, a.rated, a.satisfaction) == (1, 2, 50.0)
    assert a.overdue == 1  # the red warning raised this month
    assert a.open == 3 and b.open == 1  # i2, the year-old incident and the hazard; the petition
    assert (a.yellow_cards, a.red_cards) == (1, 0)
    assert (a.households, a.visited, a.visit_coverage) == (4, 1, 25.0)  # one household, visited twice
    assert (a.plots, a.plots_covered) == (3, 1)
    assert (b.households, b.visited, b.plots, b.plots_covered) == (1, 0, 1, 0)
    incidents = dash.outcomes["incidents"]
    assert incidents.value == 2 and incidents.last_year == 1 and incidents.change == 1
    assert incidents.change_pct == 100.0
    assert incidents.trend[-1] == 2 and len(incidents.trend) == 12
    assert dash.outcomes["hazards"].trend[-3] == 1 and dash.outcomes["hazards"].value == 0
    assert dash.outcomes["satisfaction"].value == 50.0
    assert dash.total.incidents == 2 and dash.total.households == 5


def test_township_dashboard_groups_by_cell_and_a_past_month_counts_that_month(cast, figures):
    dash = selectors.dashboard(actor=cast.township_a_staff, node=cast.township_a, month=this_month())
    rows = {node.pk: row for node, row in dash.children}
    assert rows[cast.cell_a1.pk].incidents == 1 and rows[cast.cell_a2.pk].incidents == 1
    assert rows[cast.cell_a1.pk].plots == 2 and rows[cast.cell_a1.pk].plots_covered == 1
    earlier = selectors.add_months(this_month(), -2)
    past = selectors.dashboard(actor=cast.township_a_staff, node=cast.township_a, month=earlier)
    assert past.outcomes["hazards"].value == 1 and past.outcomes["incidents"].value == 0
    assert past.total.closed == 0 and past.total.visited == 0


def test_cell_dashboard_lists_its_plots(cast, figures):
    dash = selectors.dashboard(actor=cast.village_member, node=cast.cell_a1, month=this_month())
    rows = {node.pk: row for node, row in dash.children}
    assert set(rows) == {cast.plot_a1.pk, cast.plot_a2.pk}
    assert rows[cast.plot_a1.pk].plots_covered == 1 and rows[cast.plot_a2.pk].plots_covered == 0


def _add_townships(cast, n: int) -> None:
    for i in range(n):
        town = tree.node_create(parent=cast.city, kind=Kind.TOWN, code=f"33038119{i}", name=f"新镇{i}")
        cell = tree.node_create(parent=town, kind=Kind.VILLAGE, code=f"33038119{i}201", name=f"新村{i}")
        plot = tree.node_create(parent=cell, kind=Kind.PLOT, code=f"33038119{i}20101", name=f"新村{i}第一片")
        record(cast, node=plot, actor=cast.city_admin, kind="incident", sub_kind="theft", title="盗窃")


def test_city_dashboard_takes_the_same_queries_whatever_the_number_of_townships(
    cast, figures, client, django_assert_num_queries
):
    client.force_login(cast.city_admin)
    url = f"/api/v1/reports/dashboard/?node={cast.city.pk}"
    client.get(url)  # warm the session and the content types
    # 1 user, 2 the node in scope (the session and the grants come from the cache once warm),
    # 3 children with plots and covered plots, 4 the monthly summary (none here: every month live),
    # 5 outcomes per township and month, 6 satisfaction per township and month, 7 handling (open,
    # closed, on time, overdue), 8 supervision cards, 9 households, 10 visits, 11 survey answers per
    # township and month.
    with django_assert_num_queries(11):
        first = client.get(url)
    _add_townships(cast, 4)
    client.get(url)  # the tree changed: the cached grants are read again once
    with django_assert_num_queries(11):
        second = client.get(url)
    assert len(second.json()["children"]) == len(first.json()["children"]) + 4
    assert second.json()["outcomes"]["incidents"]["value"] == 6


def test_dashboard_page_shows_the_api_figures(cast, figures, client):
    client.force_login(cast.township_a_staff)
    page = client.get(f"/reports/{cast.township_a.pk}/")
    api = client.get(f"/api/v1/reports/dashboard/?node={cast.township_a.pk}").json()
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="fig-incidents">{api["outcomes"]["incidents"]["value"]}<' in html
    assert f'id="fig-open">{api["cases"]["open"]}<' in html
    assert 'id="dashboard-data"' in html and "<script>" not in html
    assert [c["id"] for c in api["children"]] == [cast.cell_a1.pk, cast.cell_a2.pk]


def test_reports_index_opens_the_home_node(cast, client):
    client.force_login(cast.township_a_staff)
    response = client.get("/reports/")
    assert response.status_code == 302 and response["Location"] == f"/reports/{cast.township_a.pk}/"


def test_reports_index_of_a_user_without_a_grid_lists_the_report_pages_open_to_them(cast, client):
    client.force_login(cast.department_user)
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "您的账号不属于任何网格" in html
    for name in ("reports:rounds", "reports:work_reports", "reports:cadres", "reports:surveys"):
        link = reverse(name)
        assert f'href="{link}"' in html
        assert client.get(link).status_code == 200
    # No dashboard of any grid leaks through the landing page.
    assert f"/reports/{cast.township_a.pk}/" not in html


@pytest.mark.parametrize(
    "who", ["township_b_staff", "village_member", "other_tenant_admin", "department_user"]
)
def test_out_of_scope_dashboard_is_404_then_entitled_user_sees_it(cast, client, who):
    client.force_login(getattr(cast, who))
    assert client.get(f"/reports/{cast.township_a.pk}/").status_code == 404
    assert client.get(f"/api/v1/reports/dashboard/?node={cast.township_a.pk}").status_code == 404
    client.force_login(cast.township_a_staff)
    assert client.get(f"/reports/{cast.township_a.pk}/").status_code == 200
    assert client.get(f"/api/v1/reports/dashboard/?node={cast.township_a.pk}").status_code == 200


def test_missing_node_is_the_same_404(cast, client):
    client.force_login(cast.city_admin)
    assert client.get("/api/v1/reports/dashboard/?node=999999").status_code == 404
    assert client.get("/reports/999999/").status_code == 404


def test_anonymous_is_refused(cast, client):
    assert client.get(f"/reports/{cast.city.pk}/").status_code == 302
    assert client.get(f"/api/v1/reports/dashboard/?node={cast.city.pk}").status_code in (401, 403)


@pytest.mark.parametrize("month", ["2026-13", "abc", "1999-01", "2999-01"])
def test_bad_month_is_a_400_in_chinese(cast, client, month):
    client.force_login(cast.city_admin)
    response = client.get(f"/api/v1/reports/dashboard/?node={cast.city.pk}&month={month}")
    assert response.status_code == 400
    assert "YYYY-MM" in response.json()["month"][0]


def test_cell_user_sees_own_cell_but_not_the_sibling(cast, client):
    client.force_login(cast.village_member)
    assert client.get(f"/api/v1/reports/dashboard/?node={cast.cell_a2.pk}").status_code == 404
    response = client.get("/api/v1/reports/dashboard/")  # the home node by default
    assert response.status_code == 200 and response.json()["node"]["id"] == cast.cell_a1.pk


def test_workbench_panel_links_city_and_township_users_only(cast, rf):
    from reports.panels import dashboard

    for user, shown in ((cast.city_admin, True), (cast.township_a_staff, True), (cast.village_member, False)):
        request = rf.get("/")
        request.user = user
        panel = dashboard(request)
        assert (panel is not None) is shown
        if panel:
            assert panel.links[0][1] == f"/reports/{user.home_node_id}/"


def test_boundaries_become_map_features(cast, figures):
    from grids.models import GridNode

    square = {
        "type": "Polygon",
        "coordinates": [[[120.6, 27.7], [120.7, 27.7], [120.7, 27.8], [120.6, 27.7]]],
    }
    GridNode.objects.filter(pk=cast.township_a.pk).update(boundary=square)
    dash = selectors.dashboard(actor=cast.city_admin, node=cast.city, month=this_month())
    geo = selectors.boundaries(dash)
    assert [f["properties"]["name"] for f in geo["features"]] == ["上望街道"]


def test_dashboard_page_takes_the_same_queries_whatever_the_number_of_townships(
    cast, figures, client, django_assert_num_queries
):
    client.force_login(cast.city_admin)
    url = f"/reports/{cast.city.pk}/"
    client.get(url)  # warm the session and the content types
    with django_assert_num_queries(12):
        client.get(url)
    _add_townships(cast, 3)
    client.get(url)  # the tree changed: the cached grants are read again once
    # The API's 11 (user, node, the summary, the seven figure families, the survey answers; the session
    # from the cache) and the header's unread inbox count (the city has no ancestors for the
    # breadcrumbs: no query): the same before and after three more townships.
    with django_assert_num_queries(12):
        response = client.get(url)
    assert response.content.decode().count('<tr data-id="') == 5
