"""What a person may reach, kept between requests: a user's grants and units, cached under a version.

Every request used to read the user's grants and unit memberships afresh (two queries and their
Python, about a fifth of an API list's time). They change rarely, so they are kept in Django's cache
under the key `access:<what>:<user id>:<access version>`. `User.access_version` is a random number
that `access_changed` replaces, in the same transaction, whenever something that feeds these reads
changes: a grant given or taken (`grids.services`), a membership (`teams.services` and the admin),
a unit's node or state, the tenant's tree (ranges shift; `grids.tree`). The user row is read on every
request anyway, so the version comes free, and what was cached under an old version is never read
again (it expires). A write that rolls back leaves a version nobody will meet again: versions are
random, not counters, so a value is never reused for different rights.

Within one request the values are also kept on the user object, as before, so a page that asks
twenty times reads the cache once. Between requests each process also keeps the last few thousand
entries it read or computed in its own memory, in front of the shared cache: an entry's key names the
version it was computed under and a value is never changed under the same key, so a copy kept in a
process can never be stale, and a list request then costs no round trip to Redis for its rights.
The values are shared, so they are read-only (tuples and dicts of tuples, units not to be altered).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.cache import cache

T = TypeVar("T")

TIMEOUT = 6 * 3600  # an unused entry leaves the cache after this; a changed one is never read again
_REQUEST_ATTR = "_access_cache"


def new_access_version() -> int:
    return secrets.randbits(62)


PROCESS_ENTRIES = 4096  # kept in each process's memory, the oldest dropped first
_process: dict[str, Any] = {}
_process_lock = threading.Lock()


def _keep_in_process(key: str, value: Any) -> None:
    with _process_lock:
        _process[key] = (value, time.monotonic() + TIMEOUT)  # no longer than the shared cache keeps it
        while len(_process) > PROCESS_ENTRIES:
            del _process[next(iter(_process))]


def _from_process(key: str) -> Any:
    kept = _process.get(key)
    return kept[0] if kept is not None and kept[1] > time.monotonic() else None


def remembered(user: Any, what: str, compute: Callable[[], T]) -> T:
    """`compute()` for this user, from the request, else this process, else the shared cache, else
    computed and kept."""
    local: dict[str, Any] = user.__dict__.setdefault(_REQUEST_ATTR, {})
    if what in local:
        return local[what]  # type: ignore[no-any-return]
    version = getattr(user, "access_version", None)
    key = f"access:{what}:{user.pk}:{version}" if version is not None and user.pk is not None else None
    value = _from_process(key) if key else None
    if value is None:
        value = cache.get(key) if key else None
        if value is None:
            value = compute()
            if key:
                cache.set(key, value, TIMEOUT)
        if key:
            _keep_in_process(key, value)
    local[what] = value
    return value


def forget(user: Any) -> None:
    """Drop what this user object keeps for the request (the shared cache goes by version)."""
    user.__dict__.pop(_REQUEST_ATTR, None)


def access_changed(
    *, users: Iterable[Any] = (), user_ids: Iterable[int] = (), tenant_id: int | None = None
) -> None:
    """Give these users (or every user of `tenant_id`) a new access version, in the caller's
    transaction, so their grants and units are read afresh; the user objects passed are updated too."""
    users = list(users)
    ids = {u.pk for u in users} | set(user_ids)
    version = new_access_version()
    manager = get_user_model()._base_manager
    if tenant_id is not None:
        manager.filter(tenant_id=tenant_id).update(access_version=version)
    if ids:
        manager.filter(pk__in=ids).update(access_version=version)
    for user in users:
        user.access_version = version
        forget(user)
