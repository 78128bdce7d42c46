"""The workbench and the case list in headless Chromium, at desktop (1280 px) and phone (390 px) sizes:
counts open the right filtered list, the phone's filters fold behind one button, nothing overflows."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case
from tests.cases.conftest import record
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=["desktop", "phone"])
def page(request):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    size = request.param
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(
            viewport=SIZES[size], is_mobile=size == "phone", device_scale_factor=2 if size == "phone" else 1
        )
        tab = context.new_page()
        tab.size = size
        yield tab
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.size}.png"), full_page=True)


@pytest.fixture
def queues(cast, units):
    staff = cast.township_a_staff
    fresh = [record(cast, title=f"待派遣{n}") for n in range(2)]
    overdue = record(cast, title="超期的纠纷", parties=[{"name": "潘某某", "phone": "13812345678"}])
    services.case_dispatch(actor=staff, case=overdue, responsible_unit=units.police)
    Case.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timezone.timedelta(days=1))
    return {"to_dispatch": {c.pk for c in fresh}, "overdue": {overdue.pk}}


def test_workbench_counts_open_the_right_filtered_list(cast, units, queues, live_server, page):
    sign_in(page, live_server, "shangwang_staff")
    assert page.locator("h1").first.inner_text() == "工作台"
    no_overflow(page)
    shot(page, "workbench")
    for queue, ids in queues.items():
        page.goto(f"{live_server.url}/")
        item = page.locator(f'a.count-item[href$="queue={queue}"]')
        assert int(item.locator(".count").inner_text()) == len(ids)
        item.click()
        page.wait_for_url(re.compile(rf".*/cases/\?queue={queue}$"))
        numbers = set(page.locator("#case-rows td:first-child a").all_inner_texts())
        assert numbers == {Case.objects.get(pk=pk).number for pk in ids}
        assert f"{len(ids)} 件" in page.locator("#case-total").inner_text()
        no_overflow(page)


def test_phone_filters_fold_behind_one_button_and_desktop_shows_them(cast, units, queues, live_server, page):
    sign_in(page, live_server, "shangwang_staff")
    page.goto(f"{live_server.url}/cases/")
    keyword = page.locator("input[name=q]")
    if page.size == "phone":
        assert not keyword.is_visible()
        page.click("details.filters-fold > summary")
        assert keyword.is_visible()
    else:
        assert keyword.is_visible()
        assert not page.locator("details.filters-fold > summary").is_visible()
    keyword.fill("潘某某")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r".*q=.*"))
    assert page.locator("#case-rows tr").count() == 1
    no_overflow(page)
    shot(page, "case-list")
    # The title opens the case; the handling sheet fits the screen too.
    page.locator("#case-rows td:nth-child(2) a").click()
    page.wait_for_url(re.compile(r".*/cases/\d+/$"))
    no_overflow(page)
    page.click("text=打印流转单")
    page.wait_for_url(re.compile(r".*/sheet/$"))
    assert "事件流转单" in page.locator("h1").inner_text()
    assert "13812345678" not in page.content()
    no_overflow(page)
    shot(page, "handling-sheet")


def test_department_and_member_workbenches_fit_the_screen(cast, units, queues, live_server, page):
    for username in ("dept_police", "jiusan_member"):
        page.context.clear_cookies()
        sign_in(page, live_server, username)
        assert page.locator("section.panel").count() >= 1
        no_overflow(page)
    item = page.locator('a.count-item[href$="queue=mine"]')
    assert int(item.locator(".count").inner_text()) == 3  # the member recorded all three
