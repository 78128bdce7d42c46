"""At phone size (390 px, headless Chromium): a township user opens the supervision page and the inbox
in Chinese with nothing wider than the screen; the department answers an order from its side and
the township sees the reply waiting for review."""

from __future__ import annotations

import os
import re

import pytest

from cases import supervision
from cases.models import Grade, OrderStatus, SupervisionOrder
from tests.conftest import PASSWORD

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


def _phone_page(browser, base, username, next_path):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")
    return page


def _chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not re.search(r"[A-Za-z]", text)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_township_reads_supervision_and_inbox_and_the_department_replies(
    cast, units, in_hand, live_server, browser
):
    order = supervision.order_issue(
        actor=cast.township_a_staff, case=in_hand, grade=Grade.YELLOW, reason="逾期未办结，请加快"
    )
    township = _phone_page(browser, live_server.url, cast.township_a_staff.username, "/cases/supervision/")
    text = (
        township.locator("main").inner_text()
        if township.locator("main").count()
        else township.inner_text("body")
    )
    assert "督办单" in text and "黄牌" in text and "导出 Excel" in text
    assert "Orders" not in text and "Export" not in text
    assert _fits(township)
    # On a phone each order is a stack of labelled lines, not a column of bare values.
    first = township.locator("table.list tbody tr").first
    assert first.locator("td").first.get_attribute("data-label") == "等级"
    assert "等级" in township.evaluate(
        "el => getComputedStyle(el, '::before').content", first.locator("td").first.element_handle()
    )

    township.goto(f"{live_server.url}/inbox/")
    body = township.inner_text("body")
    assert "只看未读" in body or "显示全部" in body
    assert "Inbox" not in body and "Mark all read" not in body
    assert _fits(township)

    department = _phone_page(
        browser, live_server.url, cast.department_user.username, f"/cases/supervision/{order.pk}/"
    )
    assert _chinese(department.locator("form.card button[type=submit]").inner_text())
    assert "Send the reply" not in department.inner_text("body")
    assert _fits(department)
    department.fill("textarea[name=reply]", "已上门调解，双方达成协议")
    department.click("form.card button[type=submit]")
    department.wait_for_load_state()
    order.refresh_from_db()
    assert (order.status, order.reply) == (OrderStatus.REPLIED, "已上门调解，双方达成协议")
    assert "Your reply was sent" not in department.inner_text("body")

    township.goto(f"{live_server.url}/cases/supervision/{order.pk}/")
    body = township.inner_text("body")
    assert "已上门调解" in body and "Accept the reply" not in body and "Send it back" not in body
    assert all(_chinese(b) for b in township.locator("form.card button[type=submit]").all_inner_texts())
    assert _fits(township)
    assert SupervisionOrder.objects.get(pk=order.pk).status == OrderStatus.REPLIED
