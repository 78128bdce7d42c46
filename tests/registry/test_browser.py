"""On a phone (Debian's chromium, playwright): a household page fits the screen; a reveal with a reason
swaps the numbers in with htmx and is logged."""

import os
from pathlib import Path

import pytest

from grids.registry.models import PersonalDataAccess
from grids.registry.synthetic import resident_id
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def phone(live_server):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        yield context.new_page()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    _end_server_sessions()


def _end_server_sessions():
    """The live server's request threads may keep a PostgreSQL session open after the browser has gone
    (persistent connections); end them so the test database can be dropped at the end of the run."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # The live server opens a connection per request and closes it (CONN_MAX_AGE 0 in the test
    # settings): nothing of it is left to end. Ending sessions here killed the next module's own.
    connection.close()


def _sign_in(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_household_page_fits_a_phone_and_a_reveal_is_swapped_in_and_logged(cast, people, live_server, phone):
    page = phone
    _sign_in(page, live_server.url, "city_admin")
    page.goto(f"{live_server.url}/registry/households/{people.h1.pk}/")
    assert "林阿婆" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "registry-household-on-phone.png"), full_page=True)
    page.click("text=林阿婆")
    page.wait_for_url(f"**/registry/residents/{people.r1.pk}/")
    assert resident_id(1001) not in page.content()
    page.fill("#reveal input[name=reason]", "入户走访核对身份")
    page.click("#reveal button[type=submit]")
    page.locator(".revealed").wait_for()
    assert resident_id(1001) in page.locator("#reveal").inner_text()
    assert page.url.endswith(f"/registry/residents/{people.r1.pk}/")  # swapped in place, nothing in the URL
    page.screenshot(path=str(ARTIFACTS / "registry-reveal-on-phone.png"), full_page=True)
    assert PersonalDataAccess.objects.get().reason == "入户走访核对身份"


def test_township_staff_imports_a_workbook_on_a_phone(cast, live_server, phone, tmp_path):
    from .conftest import resident_row, xlsx

    path = tmp_path / "登记表.xlsx"
    path.write_bytes(
        xlsx([resident_row(cast.plot_a1.code, "JS-1", 1), resident_row(cast.plot_b1.code, "LB-1", 2)])
    )
    page = phone
    _sign_in(page, live_server.url, "shangwang_staff")
    page.goto(f"{live_server.url}/registry/imports/")
    page.set_input_files("input[name=file]", str(path))
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/registry/imports/*/")
    page.locator("text=下载被拒绝的行").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "registry-import-on-phone.png"), full_page=True)
