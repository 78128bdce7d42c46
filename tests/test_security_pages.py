"""Content-Security-Policy on every page, no inline script; Chinese error pages; body size limits."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=|<style", re.I)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_main_pages_send_a_strict_policy_and_hold_no_inline_script_or_style(cast):
    pages = [
        (Client(), "/accounts/login/"),
        (signed_in(cast.township_a_staff), f"/grid/{cast.township_a.pk}/"),
        (signed_in(cast.township_a_staff), "/cases/"),
        (signed_in(cast.township_a_staff), "/cases/new/"),
        (signed_in(cast.township_a_staff), "/registry/"),
        (signed_in(cast.township_a_staff), "/registry/imports/"),
    ]
    for client, url in pages:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        directives = policy(response)
        assert directives["script-src"] == "script-src 'self'", url
        assert directives["style-src"] == "style-src 'self'", url
        assert directives["object-src"] == "object-src 'none'" and "frame-ancestors" in directives
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url
        assert not INLINE_STYLE.search(html), url


def test_api_docs_allow_inline_styles_but_no_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    directives = policy(page)
    assert directives["script-src"] == "script-src 'self'"
    assert "'unsafe-inline'" in directives["style-src"]
    assert not INLINE_SCRIPT.search(page.content.decode())
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_urls"


def test_404_page_is_chinese(production, cast):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "Not Found" not in html and 'lang="zh-hans"' in html
    api = Client().get("/api/v1/no-such/")
    assert api.status_code == 404


def test_403_page_is_chinese(production, cast):
    response = signed_in(cast.township_a_staff).get("/denied/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and "not yours" not in html and "403 Forbidden" not in html


def test_500_page_is_chinese_and_shows_no_details(production):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器出现错误" in html and "a bug" not in html and "Traceback" not in html
    api = client.get("/api/v1/boom/")
    assert api.status_code == 500 and api.json() == {"detail": "服务器出现错误，已记录。请稍后再试。"}


def test_400_page_is_chinese(production):
    response = Client().get("/", HTTP_HOST="evil.example")  # a host not allowed: SuspiciousOperation
    assert response.status_code == 400 and "请求有误" in response.content.decode()


def test_csrf_failure_page_is_chinese(production, cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "shangwang_staff", "password": PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode() and "_auth_user_id" not in client.session


def test_an_oversized_json_body_is_refused_with_413(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = signed_in(cast.village_member)
    body = '{"title": "' + "x" * 2000 + '"}'
    response = client.post("/api/v1/cases/", body, content_type="application/json")
    assert response.status_code == 413 and "超过了允许的" in response.json()["detail"]
    small = client.post("/api/v1/cases/", "{}", content_type="application/json")
    assert small.status_code == 400  # reached the API, which names the missing fields


def test_an_oversized_upload_is_refused_with_413(cast, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    client = signed_in(cast.township_a_staff)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.xlsx", b"x" * 5000)
    response = client.post("/registry/imports/", {"kind": "residents", "file": upload})
    assert response.status_code == 413 and "超过了允许的" in response.content.decode()
