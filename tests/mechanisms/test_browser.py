"""At phone size (390 px, headless Chromium): a township user opens the mechanisms' index, last
month's dispute review and a security warning, and acknowledges the warning for one of its cells;
in Chinese, nothing wider than the screen, no console error and no Content-Security-Policy violation."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from mechanisms import services
from mechanisms.models import DisputeReview, WarningAck
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Collects every CSP violation the page reports (the init script runs before the page's own).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def _clean(page, errors: list[str]) -> None:
    """No console error or uncaught exception so far, and no CSP violation on this page."""
    assert errors == []
    assert page.evaluate("window.__csp || []") == []


def test_township_user_on_a_phone_reads_the_review_and_acknowledges_a_warning(
    cast, units, live_server, browser
):
    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    services.reviews_open_month(tenant_id=cast.ruian.pk, month=last_month)
    review = DisputeReview.objects.get(node=cast.township_a, month=last_month)
    now = timezone.now()
    warning = services.warning_publish(
        actor=cast.township_a_staff, node=cast.township_a, level="yellow", title="入室盗窃高发",
        measures="加强夜间巡防", starts_at=now, ends_at=now + dt.timedelta(days=7),
    )  # fmt: skip

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/mechanisms/")
    page.fill("input[name=username]", cast.township_a_staff.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/mechanisms/")
    body = page.inner_text("body")
    assert "矛盾纠纷" in body and "Reviews" not in body
    assert _fits(page)
    _clean(page, errors)

    response = page.goto(f"{base}/mechanisms/reviews/{review.pk}/")
    assert "content-security-policy" in response.headers  # enforced, not report-only
    body = page.inner_text("body")
    assert f"{last_month:%Y-%m}" in body and "上望街道" in body
    assert "Analysis" not in body and "Sign off" not in body
    assert _fits(page)
    _clean(page, errors)

    page.goto(f"{base}/mechanisms/warnings/{warning.pk}/")
    body = page.inner_text("body")
    assert "入室盗窃高发" in body and "加强夜间巡防" in body and "Acknowledge" not in body
    assert _fits(page)
    _clean(page, errors)
    page.select_option("select[name=cell]", str(cast.cell_a1.pk))
    page.fill("input[name=note]", "已通知各片格")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert WarningAck.objects.filter(warning=warning, cell=cast.cell_a1, by=cast.township_a_staff).exists()
    body = page.inner_text("body")
    assert "Acknowledged" not in body
    assert _fits(page)
    _clean(page, errors)
    context.close()
