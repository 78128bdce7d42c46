"""Sending the outbox: each pending delivery through its channel, one at a time, each recorded at once.

Rows are claimed one at a time with SELECT ... FOR UPDATE SKIP LOCKED, so two workers never send the
same row. Each row is sent and recorded in its own transaction: a worker killed halfway leaves the rows it sent
marked sent, and the retry sends only the rest. A channel that fails is retried later with a growing
pause, and does not hold up the other rows or channels; after TEAMS_DELIVERY_MAX_ATTEMPTS it is
marked failed.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import channels
from .inbox_models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def deliveries_send(*, batch: int = 100, now: dt.datetime | None = None) -> int:
    """Send the deliveries that are due; returns how many were sent."""
    sent = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            # One claimed row per transaction: its lock is held while it is sent and recorded.
            row = (
                Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("item", "item__user")
                .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=moment)
                .order_by("next_attempt_at", "id")
                .first()
            )
            if row is None:
                return sent
            sent += _send_one(row, moment)
            batch -= 1
        if batch <= 0:
            return sent


def _send_one(row: Delivery, now: dt.datetime) -> int:
    try:
        channels.backend(row.channel).send(item=row.item, key=row.key)
    except channels.ChannelError as exc:
        attempts = row.attempts + 1
        failed = attempts >= settings.TEAMS_DELIVERY_MAX_ATTEMPTS
        Delivery.objects.filter(pk=row.pk).update(
            attempts=attempts,
            last_error=str(exc)[:300],
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            # The row waits 2, 4, 8 ... minutes; others go on meanwhile.
            next_attempt_at=now + dt.timedelta(minutes=2**attempts),
        )
        log.warning("delivery %s through %s failed (attempt %s)", row.pk, row.channel, attempts)
        return 0
    Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=now, attempts=row.attempts + 1
    )
    return 1
