"""The dashboards' monthly summary: a refresh is idempotent (twice, or twice at once on PostgreSQL,
leaves the same rows), the dashboard read from it shows the live computation's figures, and a
summarised month costs the same few queries whatever the size of the city."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connections

from cases.models import Case, DeadlineAlert, SupervisionOrder
from reports import selectors, summary, tasks
from reports.models import MonthlyFigure
from reports.payload import dashboard_payload
from teams import services as team_services
from tests.cases.conftest import record
from tests.reports.test_dashboard import _add_townships, at_month, close, this_month
from tests.reports.test_dashboard import figures as figures  # noqa: F401 - the fixture, re-exported

pytestmark = pytest.mark.django_db


def last_month():
    """Read at each use, not once at collection: a run may cross midnight in Asia/Shanghai."""
    return selectors.add_months(this_month(), -1)


@pytest.fixture
def history(cast, units, field, figures):
    """The dashboards' figures spread over past months: the two closed cases recorded and closed last month (the
    late one's red warning raised then too), the yellow card issued last month, a hazard recorded
    last month and still open, a dispute recorded four months ago and closed three months ago, and a
    household visited last month; a red warning raised two months ago on the dispute closed before."""
    late = Case.objects.get(title="邻里纠纷")
    Case.objects.filter(status="closed").update(
        created_at=at_month(last_month(), 5), closed_at=at_month(last_month(), 20)
    )
    DeadlineAlert.objects.filter(case=late).update(created_at=at_month(last_month(), 12))
    SupervisionOrder.objects.update(created_at=at_month(last_month(), 13))
    open_hazard = record(cast, kind="hazard", sub_kind="fire", title="电线老化")
    Case.objects.filter(pk=open_hazard.pk).update(created_at=at_month(last_month(), 3))
    old = close(cast, units, record(cast, kind="dispute", title="宅基地纠纷"), "basically")
    Case.objects.filter(pk=old.pk).update(
        created_at=at_month(selectors.add_months(this_month(), -4)),
        closed_at=at_month(selectors.add_months(this_month(), -3)),
    )
    # A red warning raised after the case closed (a month later): it went overdue in no month.
    DeadlineAlert.objects.create(
        tenant=cast.ruian,
        case=old,
        deadline_seq=1,
        level=2,
        created_at=at_month(selectors.add_months(this_month(), -2)),
    )
    team_services.visit_record(
        actor=field.member, client_id=uuid.uuid4(), household_id=field.mine[1].pk, visited_on=last_month()
    )
    return figures


def _rows(cast) -> list[tuple]:
    return sorted(
        MonthlyFigure.objects.filter(tenant=cast.ruian).values_list(
            "node_id", "level", "month", *summary.FIGURES
        )
    )


def _payload(actor, node, month: dt.date) -> dict:
    return dashboard_payload(selectors.dashboard(actor=actor, node=node, month=month), with_map=False)


def test_refresh_twice_leaves_the_same_rows(cast, history):
    count = summary.refresh(tenant_id=cast.ruian.pk)
    first = _rows(cast)
    assert count == len(first) > summary.MONTHS  # the root's marker rows and the figures' rows
    assert summary.refresh(tenant_id=cast.ruian.pk) == count
    assert _rows(cast) == first
    # Every month of the window is marked on the root, zeros included.
    root_months = MonthlyFigure.objects.filter(tenant=cast.ruian, node=cast.city).count()
    assert root_months == summary.MONTHS


def test_refresh_forgets_what_the_cases_no_longer_say(cast, history):
    summary.refresh(tenant_id=cast.ruian.pk)
    hazard = MonthlyFigure.objects.get(node=cast.township_a, month=last_month())
    # open at the month's end: this hazard, the one of two months ago, the incident of a year ago
    assert (hazard.hazards, hazard.open) == (1, 3)
    Case.objects.filter(title="电线老化").update(kind="request")
    summary.refresh(tenant_id=cast.ruian.pk)
    hazard = MonthlyFigure.objects.get(node=cast.township_a, month=last_month())
    assert (hazard.hazards, hazard.open) == (0, 3)


@pytest.mark.parametrize("months_ago", [0, 1, 2, 3, 4, 12])
def test_dashboard_from_the_summary_shows_the_live_figures(cast, history, months_ago):
    summary.refresh(tenant_id=cast.ruian.pk)
    month = selectors.add_months(this_month(), -months_ago)
    views = [
        (cast.city_admin, cast.city),
        (cast.township_a_staff, cast.township_a),
        (cast.township_a_staff, cast.cell_a1),
        (cast.township_a_staff, cast.plot_a1),
    ]
    for actor, node in views:
        with summary.disabled():
            live = _payload(actor, node, month)
        assert _payload(actor, node, month) == live, (node.name, month)
    dash = selectors.dashboard(actor=cast.city_admin, node=cast.city, month=month)
    assert dash.summarised_at is not None


def test_summary_figures_are_the_expected_ones(cast, history):
    summary.refresh(tenant_id=cast.ruian.pk)
    data = _payload(cast.city_admin, cast.city, last_month())
    assert data["cases"] == {"open": 3, "overdue": 1, "closed": 2, "closed_on_time": 1, "on_time_rate": 50.0}
    assert data["cards"] == {"yellow": 1, "red": 0}
    assert data["outcomes"]["satisfaction"]["value"] == 50.0
    assert data["outcomes"]["hazards"]["trend"][-1] == 1
    assert data["outcomes"]["hazards"]["trend"][-2] == 1  # two months ago
    township_a = next(c for c in data["children"] if c["id"] == cast.township_a.pk)
    assert (township_a["closed"], township_a["visited"], township_a["cards"]) == (2, 1, 1)


def test_past_months_come_from_the_summary_until_the_next_refresh(cast, history):
    summary.refresh(tenant_id=cast.ruian.pk)
    Case.objects.filter(title="电线老化").update(kind="petition")  # behind the services' back
    data = _payload(cast.city_admin, cast.city, last_month())
    assert data["outcomes"]["hazards"]["value"] == 1  # the summary, until ...
    summary.refresh(tenant_id=cast.ruian.pk)
    data = _payload(cast.city_admin, cast.city, last_month())
    assert (data["outcomes"]["hazards"]["value"], data["outcomes"]["petitions"]["value"]) == (0, 1)


def test_this_month_is_always_live(cast, history):
    summary.refresh(tenant_id=cast.ruian.pk)
    before = _payload(cast.city_admin, cast.city, this_month())["outcomes"]["incidents"]["value"]
    record(cast, kind="incident", sub_kind="theft", title="盗窃电动车")
    assert _payload(cast.city_admin, cast.city, this_month())["outcomes"]["incidents"]["value"] == before + 1


def test_summarised_month_takes_the_same_queries_whatever_the_number_of_townships(
    cast, history, client, django_assert_max_num_queries
):
    client.force_login(cast.city_admin)
    url = f"/api/v1/reports/dashboard/?node={cast.city.pk}&month={last_month():%Y-%m}"
    summary.refresh(tenant_id=cast.ruian.pk)
    client.get(url)  # warm the session and the content types
    # 1 user, 2 the node in scope, 3 children with plots and covered plots, 4 the summary rows of the
    # node and its children over 13 months, 5 households, 6 the residents' survey answers (not
    # summarised: always live); the session comes from the cache.
    with django_assert_max_num_queries(6):
        first = client.get(url)
    _add_townships(cast, 3)
    summary.refresh(tenant_id=cast.ruian.pk)
    client.get(url)  # the tree changed: the cached grants are read again once
    with django_assert_max_num_queries(6):
        second = client.get(url)
    assert len(second.json()["children"]) == len(first.json()["children"]) + 3
    # This month on top of the summary: the live families of one month, 12 as without a summary.
    this_month = f"/api/v1/reports/dashboard/?node={cast.city.pk}"
    with django_assert_max_num_queries(12):
        client.get(this_month)


def test_page_says_how_fresh_the_figures_are(cast, history, client):
    client.force_login(cast.city_admin)
    assert 'id="freshness"' in client.get(f"/reports/{cast.city.pk}/").content.decode()
    summary.refresh(tenant_id=cast.ruian.pk)
    page = client.get(f"/reports/{cast.city.pk}/?month={last_month():%Y-%m}").content.decode()
    assert "每小时" in page


def test_refresh_task_fans_out_one_city_at_a_time(cast, history, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(tasks.summary_refresh_city, "delay", sent.append)
    assert tasks.summary_refresh() == len(sent) >= 1
    assert cast.ruian.pk in sent
    assert tasks.summary_refresh_city(cast.ruian.pk) == len(_rows(cast))


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_refreshes_at_once_leave_the_same_rows(cast, history):
    summary.refresh(tenant_id=cast.ruian.pk)
    expected = _rows(cast)
    MonthlyFigure.objects.all().delete()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            summary.refresh(tenant_id=cast.ruian.pk)
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _rows(cast) == expected


def test_the_refresh_runs_every_hour_from_the_schedule():
    from ruian_grid.beat import SCHEDULE
    from ruian_grid.celery import app as celery_app

    assert SCHEDULE["reports-summary-refresh"]["task"] == "reports.summary_refresh"
    assert SCHEDULE["reports-summary-refresh"]["crontab"] == {"minute": "10"}
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert {"reports.summary_refresh", "reports.summary_refresh_city"} <= set(celery_app.tasks)
