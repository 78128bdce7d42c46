"""The API's rate limits count every request once, also when requests come at the same moment."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from ruian_grid.throttling import UserRateThrottle

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SIGNED_IN = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=7), META={})


def _redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "ruian_grid.cache.FailSoftRedisCache",
            "LOCATION": REDIS,
            # Each run counts under keys of its own: test processes share the Redis database.
            "KEY_PREFIX": uuid.uuid4().hex,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    cache = caches["default"]
    assert cache.hit("probe", 5) == 1, "the Redis of TEST_REDIS_URL must answer"
    return cache


def _allowed_at_once(n):
    def one(_):
        return UserRateThrottle().allow_request(SIGNED_IN, None)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return sum(pool.map(one, range(n)))


@pytest.mark.parametrize("backend", ["redis", "locmem"])
def test_requests_at_the_same_moment_are_each_counted(backend, settings, monkeypatch):
    if backend == "redis":
        _redis_cache(settings)
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "5/minute")
    # A list read from the cache and written back would let most of these through together.
    assert _allowed_at_once(24) == 5
    assert UserRateThrottle().allow_request(SIGNED_IN, None) is False


def test_the_refusal_says_when_the_window_ends_and_then_the_client_is_served(settings, monkeypatch):
    _redis_cache(settings)
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/minute")
    clock = [6_000_010.0]  # 10 s into a minute
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: clock[0])
    assert all(UserRateThrottle().allow_request(SIGNED_IN, None) for _ in range(2))
    refused = UserRateThrottle()
    assert refused.allow_request(SIGNED_IN, None) is False
    assert refused.wait() == pytest.approx(50.0)
    clock[0] += 50.0  # the next minute
    assert UserRateThrottle().allow_request(SIGNED_IN, None) is True


def test_the_counter_lives_no_longer_than_its_window(settings):
    cache = _redis_cache(settings)
    assert cache.hit("k", 60) == 1 and cache.hit("k", 60) == 2
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key("k")) <= 60
