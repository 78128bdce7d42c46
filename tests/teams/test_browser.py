"""A service-team member on a phone (390 px, headless Chromium): a visit recorded offline is stored
exactly once when the network returns; a refused visit stays queued with the server's reason; a case
raised from a visit reaches the township's list; the coverage page says what the API says."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from cases.models import Case
from teams.models import Visit
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
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


def _phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)


def _sign_in(page, base, username, next_path):
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def _wait_for_offline_pages(page):
    """The service worker controls the page and has the visit form in its cache."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "caches.open('ruian-field-v1').then(c => c.match('/field/visit/')).then(r => !!r)", polling=200
    )


def test_a_visit_recorded_offline_is_stored_once_when_the_network_returns(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "jiusan_member", "/field/")
    assert page.locator(".plot-card h2").all_inner_texts() == ["九三村第一片"]
    _wait_for_offline_pages(page)

    context.set_offline(True)
    household = field.mine[2]
    page.goto(f"{live_server.url}/field/visit/#h={household.pk}")
    assert page.locator("select[name=household]").input_value() == str(household.pk)
    page.fill("textarea[name=seen]", "屋内整洁")
    page.fill("textarea[name=heard]", "户主反映路灯不亮")
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("#queue li.queued.waiting")
    assert "等待发送" in page.locator("#queue").inner_text()
    assert "没有网络" in page.locator("#queue").inner_text()
    assert Visit.objects.count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "visit-queued-offline.png"), full_page=True)

    context.set_offline(False)
    page.wait_for_selector("#queue ul.sent li")
    assert page.locator("#queue li.queued").count() == 0
    # The network flapping again sends nothing twice.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(300)
    visit = Visit.objects.get()
    assert (visit.household_id, visit.visitor_id, visit.heard) == (
        household.pk,
        field.member.pk,
        "户主反映路灯不亮",
    )
    context.close()


def test_a_refused_visit_stays_queued_with_the_reason(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "jiusan_member", "/field/visit/")
    page.select_option("select[name=household]", str(field.mine[0].pk))
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page.fill("input[name=visited_on]", tomorrow)
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("#queue li.queued.refused")
    assert "走访日期不能晚于今天。" in page.locator("#queue li.refused").inner_text()
    assert Visit.objects.count() == 0
    page.reload()  # still there after a reload: kept, not lost
    page.wait_for_selector("#queue li.queued.refused")
    context.close()


def test_a_case_raised_from_a_visit_reaches_the_townships_list(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "jiusan_member", "/field/visit/")
    page.select_option("select[name=household]", str(field.mine[1].pk))
    page.fill("textarea[name=heard]", "两户因排水沟发生争吵")
    page.check("input[name=outcome][value=case]")
    page.click("#visit-form button[type=submit]")
    page.click("#queue ul.sent li a")
    page.wait_for_url("**/field/visits/*/")
    page.click("a.raise-case")
    page.wait_for_url("**/cases/from-visit/*/")
    page.select_option("select[name=kind]", "dispute")
    page.select_option("select[name=sub_kind]", "neighbour")
    page.fill("input[name=title]", "排水沟邻里纠纷")
    page.click("main button[type=submit]")
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get()
    assert case.visit == Visit.objects.get() and case.source == "visit"
    context.close()

    staff = _phone(browser)
    page = staff.new_page()
    _sign_in(page, live_server.url, "shangwang_staff", "/cases/")
    assert "排水沟邻里纠纷" in page.locator("main").inner_text()
    staff.close()


def test_the_coverage_page_says_what_the_api_says(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    path = f"/teams/coverage/{cast.township_a.pk}/"
    _sign_in(page, live_server.url, "shangwang_staff", path)
    shown = {
        "plots": int(page.inner_text("#cov-plots")),
        "covered": int(page.inner_text("#cov-covered")),
        "percent": float(page.inner_text("#cov-percent").rstrip("%")),
        "idle_members": int(page.inner_text("#cov-idle")),
    }
    body = page.request.get(f"{live_server.url}/api/v1/teams/coverage/?node={cast.township_a.pk}").json()
    assert shown == {k: body[k] for k in shown}
    assert page.locator("#uncovered li").count() == len(body["uncovered_plots"]) == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_signing_out_clears_the_offline_pages_and_queue_from_the_phone(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "jiusan_member", "/field/")
    _wait_for_offline_pages(page)
    # A visit the server refused (dated tomorrow) stays in the phone's queue, not sent.
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page.goto(f"{live_server.url}/field/visit/#h={field.mine[2].pk}")
    page.fill("input[name=visited_on]", tomorrow)
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("#queue li.queued.refused")
    # Asked first, because a visit is unsent: refusing keeps everything and stays signed in.
    asked: list[str] = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("form[data-signout] button")
    for _ in range(50):
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked and "1 条走访尚未发送" in asked[0]
    assert page.evaluate("caches.keys().then(k => k.length)") > 0
    assert "/field/visit/" in page.url  # still signed in, nothing cleared
    # Confirming clears the caches, the queue and the service worker, then signs out.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[data-signout] button")
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate("caches.keys().then(k => k.length)") == 0
    assert page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    assert page.evaluate("localStorage.length") == 0
    assert Visit.objects.count() == 0


def test_ticking_a_tag_on_the_visit_form_changes_the_households_record(cast, field, live_server, browser):
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, live_server.url, "jiusan_member", "/field/")
    household = field.mine[0]  # an elderly person living alone (tag 1)
    page.goto(f"{live_server.url}/field/visit/#h={household.pk}")
    assert page.is_checked("input[name=tags][value='1']")
    page.check("input[name=tags][value='64']")  # a household with a dispute
    page.click("#visit-form button[type=submit]")
    page.wait_for_selector("#queue ul.sent li")
    household.refresh_from_db()
    assert household.tags == 1 | 64
    assert Visit.objects.get().record_note == "户标签已变更"
