"""The Redis cache, failing soft: when Redis does not answer, reads miss and writes are dropped.

Nothing this project keeps in the cache is the only copy (API rate counters, cached fragments), so an
outage of Redis must not turn pages and API calls into errors: the broker's outage is already
handled by the outbox, and `/healthz` reports it. Connection and socket timeouts are short (settings)
so a Redis that hangs costs a request a fraction of a second, not the worker's whole timeout.
`incr` still raises: a caller counting on it must know.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
T = TypeVar("T")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
_last_warning = 0.0


def _soft(call: Callable[[], T], fallback: T) -> T:
    global _last_warning  # noqa: PLW0603 - one warning a minute per process, not one per request
    try:
        return call()
    except UNAVAILABLE as exc:
        now = time.monotonic()
        if now - _last_warning > 60:
            _last_warning = now
            log.warning("cache unavailable, serving without it: %s", type(exc).__name__)
        return fallback


class FailSoftRedisCacheClient(RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # One redis-py client per connection pool, kept: Django makes a new one for every call, and
        # building one (its table of response callbacks) cost more than the round trip to Redis. A
        # client is safe to share between threads: each command takes a connection from the pool.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get(self, key: Any, default: Any) -> Any:
        return _soft(lambda: super(FailSoftRedisCacheClient, self).get(key, default), default)

    def get_many(self, keys: Any) -> Any:
        nothing: dict[Any, Any] = {}
        return _soft(lambda: super(FailSoftRedisCacheClient, self).get_many(keys), nothing)

    def has_key(self, key: Any) -> Any:
        return _soft(lambda: super(FailSoftRedisCacheClient, self).has_key(key), False)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        _soft(lambda: super(FailSoftRedisCacheClient, self).set(key, value, timeout), None)

    def add(self, key: Any, value: Any, timeout: Any) -> Any:
        return _soft(lambda: super(FailSoftRedisCacheClient, self).add(key, value, timeout), False)

    def touch(self, key: Any, timeout: Any) -> Any:
        return _soft(lambda: super(FailSoftRedisCacheClient, self).touch(key, timeout), False)

    def set_many(self, data: Any, timeout: Any) -> None:
        _soft(lambda: super(FailSoftRedisCacheClient, self).set_many(data, timeout), None)

    def delete(self, key: Any) -> Any:
        return _soft(lambda: super(FailSoftRedisCacheClient, self).delete(key), False)

    def delete_many(self, keys: Any) -> None:
        _soft(lambda: super(FailSoftRedisCacheClient, self).delete_many(keys), None)


class FailSoftRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailSoftRedisCacheClient

    def hit(self, key: str, timeout: int) -> int | None:
        """Add one to the counter `key` and return its new value, in one round trip and atomically
        (INCR), the counter living `timeout` seconds from its last hit; None when Redis does not
        answer. The API's rate limits count with it (ruian_grid/throttling.py)."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)  # type: ignore[attr-defined]

        def run() -> int:
            pipe = client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, timeout)
            return int(pipe.execute()[0])

        return _soft(run, None)
