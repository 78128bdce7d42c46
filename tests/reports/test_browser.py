"""A township user's dashboard in headless Chromium: the trend charts and the map render with no
console error (strict CSP included), the figures on screen equal the API's, the table sorts, and a
row leads to the child's dashboard."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from grids.models import GridNode
from reports.demo import seed_boundaries
from tests.cases.conftest import record
from tests.conftest import PASSWORD
from tests.reports.test_dashboard import close

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_township_dashboard_draws_charts_and_map_and_matches_the_api(
    cast, units, field, live_server, browser
):
    record(cast, kind="incident", sub_kind="burglary", title="入室盗窃")
    record(cast, node=cast.plot_a3, actor=cast.township_a_staff, kind="hazard", sub_kind="fire", title="消防")
    close(cast, units, record(cast, kind="dispute", title="邻里纠纷"), "satisfied")
    assert seed_boundaries(cast.ruian) == GridNode.objects.filter(tenant=cast.ruian).count()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):  # the browser's own favicon request is not the page's doing
        if message.type in ("error", "warning") and not message.location.get("url", "").endswith(
            "favicon.ico"
        ):
            problems.append(f"{message.type}: {message.text} {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    path = f"/reports/{cast.township_a.pk}/"
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", "shangwang_staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    # 5 trends (incidents, hazards, petitions, close-out satisfaction, survey index) + map
    page.wait_for_function("document.documentElement.getAttribute('data-charts') === '6'")
    assert page.locator(".trend-chart canvas").count() == 5
    assert page.locator("#map canvas").count() >= 1

    body = page.request.get(f"{live_server.url}/api/v1/reports/dashboard/?node={cast.township_a.pk}").json()
    assert int(page.inner_text("#fig-incidents")) == body["outcomes"]["incidents"]["value"] == 1
    assert int(page.inner_text("#fig-hazards")) == body["outcomes"]["hazards"]["value"] == 1
    assert int(page.inner_text("#fig-open")) == body["cases"]["open"] == 2
    assert float(page.inner_text("#fig-satisfaction")) == body["outcomes"]["satisfaction"]["value"] == 100.0
    assert len(body["map"]["features"]) == 2

    # Colour the map by another figure; sort the table by hazards (a figure sorts largest first, a
    # second click reverses).
    page.select_option("#map-figure", "visit_coverage")
    first_row = page.locator("#children tbody tr").first
    page.click("button[data-sort=hazards]")
    assert first_row.get_attribute("data-id") == str(cast.cell_a2.pk)
    page.click("button[data-sort=hazards]")
    assert first_row.get_attribute("data-id") == str(cast.cell_a1.pk)
    page.click("button[data-sort=name]")
    page.locator(f"#children tbody tr[data-id='{cast.cell_a1.pk}'] a").click()
    page.wait_for_url(f"**/reports/{cast.cell_a1.pk}/?month={timezone.localdate():%Y-%m}")
    page.wait_for_function("document.documentElement.getAttribute('data-charts') === '6'")
    assert int(page.inner_text("#fig-incidents")) == 1
    assert problems == []
    context.close()


def test_township_dashboard_of_a_past_month_from_the_summary_matches_the_api(
    cast, units, field, live_server, browser
):
    from cases.models import Case
    from reports import selectors, summary
    from tests.reports.test_dashboard import at_month

    last_month = selectors.add_months(timezone.localdate().replace(day=1), -1)
    hazard = record(
        cast, node=cast.plot_a3, actor=cast.township_a_staff, kind="hazard", sub_kind="fire", title="消防"
    )
    done = close(cast, units, record(cast, kind="dispute", title="邻里纠纷"), "satisfied")
    Case.objects.filter(pk__in=[hazard.pk, done.pk]).update(created_at=at_month(last_month, 3))
    Case.objects.filter(pk=done.pk).update(closed_at=at_month(last_month, 9))
    seed_boundaries(cast.ruian)
    summary.refresh(tenant_id=cast.ruian.pk)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type in ("error", "warning") and not m.location.get("url", "").endswith("favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    path = f"/reports/{cast.township_a.pk}/"
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", "shangwang_staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.goto(f"{live_server.url}{path}?month={last_month:%Y-%m}")
    # 5 trends (incidents, hazards, petitions, close-out satisfaction, survey index) + map
    page.wait_for_function("document.documentElement.getAttribute('data-charts') === '6'")
    body = page.request.get(
        f"{live_server.url}/api/v1/reports/dashboard/?node={cast.township_a.pk}&month={last_month:%Y-%m}"
    ).json()
    assert int(page.inner_text("#fig-hazards")) == body["outcomes"]["hazards"]["value"] == 1
    assert int(page.inner_text("#fig-closed")) == body["cases"]["closed"] == 1
    assert float(page.inner_text("#fig-satisfaction")) == body["outcomes"]["satisfaction"]["value"] == 100.0
    assert "每小时" in page.inner_text("#freshness")
    assert problems == []
    context.close()


def test_a_resident_answers_the_survey_on_a_phone_once(cast, live_server, browser, monkeypatch):
    """The public page in a real browser: the form posts back to itself (CSRF's origin check passes,
    so the page must not hide its origin), the answer is stored once, and the same phone is refused."""
    from reports import survey as reports_survey
    from reports.models import SurveyLink, SurveyResponse

    monkeypatch.setattr(reports_survey, "FORM_MIN_SECONDS", 0)  # the browser answers at once
    today = timezone.localdate()
    survey = reports_survey.survey_create(
        actor=cast.city_admin, tenant=cast.ruian, title="测评", period_start=today, period_end=today,
        questions=[{"text": "治安状况", "kind": "safety"}, {"text": "工作满意度", "kind": "satisfaction"}],
    )  # fmt: skip
    reports_survey.survey_open(actor=cast.city_admin, survey=survey)
    link = SurveyLink.objects.get(survey=survey, node=cast.cell_a1)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)

    def answer(value: str) -> str:
        page.goto(f"{live_server.url}/s/{link.token}/")
        for name in page.eval_on_selector_all("input[type=radio]", "e => [...new Set(e.map(x => x.name))]"):
            page.check(f"input[name='{name}'][value='{value}']")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page.inner_text("body")

    assert "感谢" in answer("4")
    assert SurveyResponse.objects.filter(survey=survey, cell=cast.cell_a1).count() == 1
    assert "这部手机已经参加过本次测评" in answer("2")
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 2")
    assert [p for p in problems if "403" in p or "Content Security Policy" in p] == []
    context.close()


def test_a_published_scorecard_adds_up_on_screen_and_stays_as_published(
    cast, units, field, live_server, browser
):
    """The committee's view in a real browser: the total on screen is the sum of the weighted
    indicators on screen, and after publishing, a case closed later changes nothing on the page."""
    from reports import services
    from reports.models import Scorecard
    from tests.reports.test_assessment import make_scheme

    for _ in range(2):
        close(cast, units, record(cast, kind="dispute", title="邻里纠纷"), "satisfied")
    scheme = make_scheme(cast)
    rnd = services.round_open(actor=cast.city_admin, scheme=scheme, name="第一轮")
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    services.round_publish(actor=cast.city_admin, rnd=rnd)
    card = Scorecard.objects.get(round=rnd, unit=cast.township_a)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    path = f"/reports/assessment/scorecards/{card.pk}/"
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", "city_admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")

    def shown() -> tuple[str, list[str], list[str]]:
        return (
            page.inner_text("#card-total"),
            page.locator("#lines td.weighted").all_inner_texts(),
            page.locator("#lines td.num").all_inner_texts(),
        )

    total, weighted, numbers = shown()
    assert len(weighted) == len(scheme.indicators.all()) > 1
    assert float(total) == pytest.approx(sum(float(w) for w in weighted), abs=0.01)
    assert float(total) == float(card.total)

    # The cases move on after publishing: the page still shows what the committee saw.
    close(cast, units, record(cast, kind="dispute", title="后来的纠纷"), "unsatisfied")
    page.reload()
    assert shown() == (total, weighted, numbers)
    assert problems == []
    context.close()
