"""Queue work with the change that asks for it, and hand it to the broker when the broker answers.

`enqueue` writes a row in the caller's transaction and, once that transaction commits, tries to publish
it. `relay` publishes waiting rows: each is locked (`SELECT ... FOR UPDATE SKIP LOCKED`) while it is
published and marked sent in the same transaction, so two relays never publish the same row. A crash
between publishing and the commit publishes the row again later: delivery is at least once, and every
task is idempotent (a unique constraint makes a second run a no-op).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from ruian_grid.celery import app as celery_app

from .models import OutboxMessage

log = logging.getLogger(__name__)

# What an unreachable or failing broker raises while publishing (kombu wraps the transport's errors).
# kombu raises RuntimeError when its connection pool has been closed (a worker shutting down): the row
# stays for the relay like any other failure to reach the broker.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    BrokerError,
    OSError,
    ConnectionError,
    TimeoutError,
    RuntimeError,
)


def enqueue(
    *, task: Task | str, key: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None
) -> None:
    """Record that `task` must run, in the current transaction, under a unique `key` (a second call with
    the same key records nothing). It is published after the commit, or later by the relay."""
    name = task if isinstance(task, str) else task.name
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=key, task=name, args=list(args), kwargs=kwargs or {})], ignore_conflicts=True
    )
    transaction.on_commit(lambda: relay(keys=[key]))


def relay(*, keys: Sequence[str] | None = None, batch_size: int = 100) -> int:
    """Publish waiting rows (only those of `keys` when given), oldest first. Returns how many were sent.
    Stops at the first broker error, which is noted on the row; the row waits for the next run."""
    sent = 0
    while True:
        with transaction.atomic():
            waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
            if keys is not None:
                waiting = waiting.filter(key__in=list(keys))
            batch = list(waiting.order_by("id")[:batch_size])
            if not batch:
                return sent
            for message in batch:
                try:
                    _publish(message)
                except BROKER_ERRORS as exc:
                    OutboxMessage.objects.filter(pk=message.pk).update(
                        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]
                    )
                    log.warning("outbox: broker unavailable, %s waits for the relay (%s)", message.key, exc)
                    return sent
                OutboxMessage.objects.filter(pk=message.pk).update(
                    sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
                )
                sent += 1
        if len(batch) < batch_size:
            return sent


def _publish(message: OutboxMessage) -> None:
    if celery_app.conf.task_always_eager:
        # Tests and one-process set-ups: run the registered task in place, as `.delay()` would.
        celery_app.tasks[message.task].apply_async(args=message.args, kwargs=message.kwargs)
        return
    # A connection of its own, no publish retries: a down broker fails fast and the row waits.
    with celery_app.connection_for_write() as conn:
        # One quick try: the request that queued the row must not hang on a down broker.
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=settings.OUTBOX_BROKER_TIMEOUT
        )
        celery_app.send_task(
            message.task, args=message.args, kwargs=message.kwargs, connection=conn, retry=False
        )


def purge_sent(*, days: int = 7) -> int:
    """Delete rows sent more than `days` ago. Returns how many; a second run deletes nothing."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - dt.timedelta(days=days)).delete()
    return deleted
