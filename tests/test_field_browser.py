# ruff: noqa: F811 - fixtures imported from the apps' conftest files are redefined as arguments
"""In headless Chromium, at phone and desktop sizes: the grid picker, the position button, the sub-kind
narrowed to the kind, the responsible person to the unit, residents picked as parties, filters by name."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from cases.models import Case
from tests.cases.conftest import case_a1, units  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.registry.conftest import people  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def end_server_sessions(django_db_blocker):
    """Once the module is done, end the live server's PostgreSQL sessions (persistent connections of
    its request threads) so the test database can be dropped; not between tests, which reuse them."""
    yield
    with django_db_blocker.unblock():
        _end_server_sessions()


@pytest.fixture
def browser(end_server_sessions, live_server):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _end_server_sessions():
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # The live server opens a connection per request and closes it (CONN_MAX_AGE 0 in the test
    # settings): nothing of it is left to end. Ending sessions here killed the next module's own.
    connection.close()


def signed_in(browser, url, username, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def pick(page, box_selector, text, option_text):
    page.fill(f"{box_selector} [data-picker-text]", text)
    option = page.locator(f"{box_selector} .picker-list li", has_text=option_text).first
    option.wait_for()
    option.dispatch_event("mousedown")


def test_recording_on_a_phone_picks_the_grid_takes_the_position_and_narrows_the_sub_kind(
    cast, live_server, browser
):
    page = signed_in(
        browser,
        live_server.url,
        "jiusan_member",
        geolocation={"latitude": 27.7812, "longitude": 120.6523},
        permissions=["geolocation"],
        **PHONE,
    )
    page.goto(f"{live_server.url}/cases/new/")
    pick(page, "[data-picker=id]", "第二", "九三村第二片")
    assert page.input_value("input[name=node]") == str(cast.plot_a2.pk)
    page.select_option("select[name=kind]", "hazard")
    offered = page.eval_on_selector_all(
        "select[name=sub_kind] option", "os => os.filter(o => !o.disabled).map(o => o.value)"
    )
    assert offered == ["production_safety", "fire", "traffic", "public_order", "other"]
    page.select_option("select[name=sub_kind]", "fire")
    page.click("[data-geolocate]")
    expect(page.locator("[data-geo=latitude]")).not_to_have_value("")
    assert page.inner_text("[data-geolocate-status]") == "已获取位置。"
    assert page.get_attribute("input[name=photo]", "capture") == "environment"
    page.fill("input[name=title]", "楼道堆放杂物")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "record-on-phone.png"), full_page=True)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get()
    assert (case.node_id, case.sub_kind) == (cast.plot_a2.pk, "fire")
    assert (case.latitude, case.longitude) == (Decimal("27.781200"), Decimal("120.652300"))
    assert "27.781200, 120.652300" in page.inner_text("main")


def test_a_position_far_away_is_refused_on_the_page(cast, live_server, browser):
    page = signed_in(
        browser,
        live_server.url,
        "jiusan_member",
        geolocation={"latitude": 39.9042, "longitude": 116.4074},  # Beijing
        permissions=["geolocation"],
        **PHONE,
    )
    page.goto(f"{live_server.url}/cases/new/")
    pick(page, "[data-picker=id]", "第一", "九三村第一片")
    page.click("[data-geolocate]")
    expect(page.locator("[data-geo=latitude]")).not_to_have_value("")
    page.fill("input[name=title]", "x")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert "远在本市范围之外" in page.inner_text("main")
    assert not Case.objects.exists()


def test_household_record_a_case_here_with_residents_picked_as_parties(cast, people, live_server, browser):
    page = signed_in(browser, live_server.url, "jiusan_member", **PHONE)
    page.goto(f"{live_server.url}/registry/households/{people.h1.pk}/")
    page.click("text=在此登记事件")
    page.wait_for_url("**/cases/new/?household=*")
    assert page.input_value("[data-picker=id] [data-picker-text]") == "九三村第一片"
    assert page.locator(".chip").all_inner_texts()[0].startswith("林阿婆 (JS-0001)")
    pick(page, "[data-resident-picker]", "陈", "陈大明")
    assert len(page.locator(".chip").all()) == 2
    page.fill("input[name=title]", "邻里噪音纠纷")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/cases/*/")
    assert [p["name"] for p in Case.objects.get().parties] == ["林阿婆", "陈大明"]


def test_dispatch_narrows_the_person_to_the_chosen_unit_on_a_desktop(
    cast, units, case_a1, live_server, browser
):
    page = signed_in(browser, live_server.url, "shangwang_staff", **DESKTOP)
    page.goto(f"{live_server.url}/cases/{case_a1.pk}/")
    page.click("details.action summary >> nth=0")
    person = "select[name='dispatch-responsible_person']"
    assert page.eval_on_selector_all(f"{person} option", "os => os.map(o => o.value)") == [""]
    page.select_option("select[name='dispatch-responsible_unit']", str(units.police.pk))
    expect(page.locator(f"{person} option")).to_have_count(2)
    assert page.eval_on_selector_all(f"{person} option", "os => os.map(o => o.textContent)")[1:] == [
        str(cast.department_user)
    ]


def test_list_filter_takes_a_grid_name_on_a_desktop(cast, people, live_server, browser):
    page = signed_in(browser, live_server.url, "city_admin", **DESKTOP)
    page.goto(f"{live_server.url}/registry/residents/")
    pick(page, "[data-picker=name]:has(input[name=township])", "塘下", "塘下镇")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert parse_qs(urlparse(page.url).query)["township"] == ["塘下镇"]
    assert "张小芳" in page.inner_text("main") and "林阿婆" not in page.inner_text("main")
