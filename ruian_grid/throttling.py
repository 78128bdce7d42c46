"""The API's rate limits, counted atomically: one counter per client and time window.

DRF's own throttles keep each client's recent request times as a list in the cache, read it, append
and write it back: two requests at once both read the same list and one of them is not counted, so a
burst of parallel requests passes the limit; and the list (up to the rate, 600 times a minute) is
unpickled and pickled again on every request. These count instead: the window is the rate's period
(a minute for "600/minute"), the counter of the client's current window goes up by one atomically
(Redis INCR, one round trip; `cache.incr` elsewhere) and a request over the rate gets 429 with
Retry-After until the window ends. A fixed window lets a client spend its rate at the end of one
window and again at the start of the next; the limit is there against floods, and that is within it.

The rates, scopes and cache keys are DRF's (settings: REST_FRAMEWORK's DEFAULT_THROTTLE_RATES).
With Redis down a request is let through, as the fail-soft cache did with DRF's throttles.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling


def _hit(cache: Any, key: str, timeout: int) -> int | None:
    counter = getattr(cache, "hit", None)  # ruian_grid.cache.FailSoftRedisCache
    if counter is not None:
        value: int | None = counter(key, timeout)
        return value
    for _ in range(2):  # the counter may expire between add and incr: start it again once
        cache.add(key, 0, timeout)
        try:
            return int(cache.incr(key))
        except ValueError:
            continue
    return None


class CountedRateThrottle(throttling.SimpleRateThrottle):
    num_requests: int  # set by DRF's __init__ from the rate
    duration: int
    retry_after: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.retry_after = (window + 1) * self.duration - now
        count = _hit(self.cache, f"{self.key}:{window}", self.duration)
        return count is None or count <= self.num_requests

    def wait(self) -> float | None:
        return self.retry_after


class AnonRateThrottle(throttling.AnonRateThrottle, CountedRateThrottle):
    """Per client address, for requests without a signed-in user (the "anon" rate)."""


class UserRateThrottle(throttling.UserRateThrottle, CountedRateThrottle):
    """Per signed-in user (the "user" rate), per address otherwise."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, CountedRateThrottle):
    """Per view scope (`throttle_scope`) and user or address; DRF's own part reads the view's scope
    and rate first, then counts here."""
