"""Redis down: the cache fails soft, so API calls (whose rate limits count in the cache) still answer."""

import pytest
from django.core.cache import caches
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

# Nothing listens on port 1 of the loopback: every connection is refused at once.
DOWN = "redis://127.0.0.1:1/0"
OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def _caches(backend):
    return {"default": {"BACKEND": backend, "LOCATION": DOWN, "OPTIONS": OPTIONS}}


def test_plain_redis_cache_raises_when_redis_is_down(settings):
    settings.CACHES = _caches("django.core.cache.backends.redis.RedisCache")
    with pytest.raises(RedisConnectionError):
        caches["default"].get("k")


def test_fail_soft_cache_misses_and_drops_writes_when_redis_is_down(settings):
    settings.CACHES = _caches("ruian_grid.cache.FailSoftRedisCache")
    cache = caches["default"]
    cache.set("k", 1)
    assert cache.get("k", "missing") == "missing"
    assert cache.add("k", 1) is False
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False


def test_api_answers_with_redis_down(client, cast, settings):
    settings.CACHES = _caches("ruian_grid.cache.FailSoftRedisCache")
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]  # rate limits read the cache
    client.force_login(cast.township_a_staff)
    response = client.get(reverse("grid-list"))
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} >= {cast.township_a.pk}
