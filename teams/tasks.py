"""Thin Celery wrappers over the teams services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import delivery


@shared_task(
    name="teams.deliveries_send",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def deliveries_send() -> int:
    """Send the outbox's due deliveries (e-mail, SMS)."""
    return delivery.deliveries_send()
