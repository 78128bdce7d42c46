"""The relay's periodic task (ruian_grid/beat.py): publish what the broker could not take earlier."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="outbox.relay", acks_late=True)
def outbox_relay() -> int:
    """Every minute: publish waiting outbox rows, and delete rows sent a week ago."""
    sent = services.relay()
    services.purge_sent(days=7)
    return sent
