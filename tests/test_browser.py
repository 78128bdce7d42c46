"""A phone in a village: sign in, browse the grid, switch language (Debian's chromium, playwright)."""

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def phone():
    from playwright.sync_api import sync_playwright

    # playwright's sync API runs an event loop in this thread; the ORM work here happens before it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_village_member_signs_in_on_a_phone_and_browses_their_village(cast, live_server, phone):
    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("input[name=username]", "jiusan_member")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # The workbench greets them; their grid is one click away.
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "工作台"
    page.click("nav >> text=网格")
    page.wait_for_url(f"**/grid/{cast.cell_a1.pk}/")
    assert "九三村" in page.locator("h1").inner_text()
    # The children table stacks into cards: nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "village-on-phone.png"), full_page=True)
    page.click("text=九三村第一片")
    page.wait_for_url(f"**/grid/{cast.plot_a1.pk}/")
    crumbs = page.locator(".breadcrumbs li").all_inner_texts()
    assert crumbs == ["九三村", "九三村第一片"]  # stops at the member's home, not the township above
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_url(f"**/grid/{cast.plot_a1.pk}/")
    assert "Households" in page.locator("main").inner_text()
    # Another village's page is not theirs.
    response = page.goto(f"{live_server.url}/grid/{cast.cell_b1.pk}/")
    assert response.status == 404
