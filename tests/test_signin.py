"""Sign-in throttling (django-axes) and API rate limits: lock-out per account and per address with a
Chinese message, on the sign-in page and the token endpoint; 429 with a Chinese detail on the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
LOCKED = "登录失败次数过多"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    return 5


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(client, cast, limit):
    for _ in range(limit - 1):
        response = sign_in(client, "shangwang_staff", "wrong-password-1")
        assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()
    locked = sign_in(client, "shangwang_staff", "wrong-password-1")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert "15 分钟" in locked.content.decode()
    # The right password no longer opens the account, from this address or another one.
    for ip in ("10.0.0.1", "10.0.0.9"):
        refused = sign_in(client, "shangwang_staff", PASSWORD, ip=ip)
        assert refused.status_code == 429 and "_auth_user_id" not in client.session
    # Another account from another address is not affected.
    assert sign_in(client, "tangxia_staff", PASSWORD, ip="10.0.0.9").status_code == 302


def test_many_accounts_tried_from_one_address_lock_the_address(client, cast, limit):
    for n in range(limit):
        sign_in(client, f"nobody{n}", "wrong-password-1", ip="10.0.0.66")
    # A real user signing in from that address is refused; from their own address they get in.
    assert sign_in(client, "tangxia_staff", PASSWORD, ip="10.0.0.66").status_code == 429
    assert sign_in(client, "tangxia_staff", PASSWORD, ip="10.0.0.7").status_code == 302


def test_a_success_resets_the_count(client, cast, limit):
    for _ in range(limit - 1):
        sign_in(client, "shangwang_staff", "wrong-password-1")
    assert sign_in(client, "shangwang_staff", PASSWORD).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        sign_in(client, "shangwang_staff", "wrong-password-1")
    assert sign_in(client, "shangwang_staff", PASSWORD).status_code == 302


def test_the_token_endpoint_locks_out_with_a_chinese_detail(cast, limit):
    api = APIClient(REMOTE_ADDR="10.0.0.5")
    for _ in range(limit - 1):
        assert api.post(TOKEN, {"username": "tangxia_staff", "password": "nope-nope-1"}).status_code == 400
    locked = api.post(TOKEN, {"username": "tangxia_staff", "password": "nope-nope-1"})
    assert locked.status_code == 429 and LOCKED in locked.json()["detail"]
    refused = APIClient(REMOTE_ADDR="10.0.0.6").post(
        TOKEN, {"username": "tangxia_staff", "password": PASSWORD}
    )
    assert refused.status_code == 429 and "token" not in refused.json()
    # Another account is not locked.
    ok = APIClient(REMOTE_ADDR="10.0.0.6").post(TOKEN, {"username": "shangwang_staff", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token"]


def test_the_token_endpoint_has_a_stricter_rate(cast, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "token", "3/minute")
    api = APIClient(REMOTE_ADDR="10.0.0.8")
    for _ in range(3):
        assert api.post(TOKEN, {"username": "shangwang_staff", "password": PASSWORD}).status_code == 200
    throttled = api.post(TOKEN, {"username": "shangwang_staff", "password": PASSWORD})
    assert throttled.status_code == 429 and "请求已被限流" in throttled.json()["detail"]
    assert "Retry-After" in throttled


def test_a_signed_in_user_is_rate_limited_per_user(cast, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "3/minute")
    api = APIClient()
    api.force_authenticate(cast.township_a_staff)
    for _ in range(3):
        assert api.get("/api/v1/grids/").status_code == 200
    throttled = api.get("/api/v1/grids/")
    assert throttled.status_code == 429 and "请求已被限流" in throttled.json()["detail"]
    # The limit is the user's own: another user is still served.
    other = APIClient()
    other.force_authenticate(cast.township_b_staff)
    assert other.get("/api/v1/grids/").status_code == 200


@pytest.mark.parametrize(
    "password, refused",
    [
        ("short-1A", True),  # under 12 characters
        ("aaaaaaaaaaaaaaaa", True),  # one kind of character
        ("123456789012345", True),  # digits only
        ("password", True),  # short and on the common-password list
        ("correct-horse-battery", False),
        ("Ruian-Grid-2026!", False),
    ],
)
def test_password_rules(password, refused):
    if refused:
        with pytest.raises(ValidationError):
            password_validation.validate_password(password)
    else:
        password_validation.validate_password(password)


def test_password_rule_message_is_chinese():
    with pytest.raises(ValidationError) as raised:
        password_validation.validate_password("aaaaaaaaaaaaaaaa")
    assert "至少要包含以下 2 类字符" in " ".join(raised.value.messages)
