"""Thin Celery wrappers over the cases services: ids in, one service call, acks_late.

The deadline scan runs every few minutes (ruian_grid/beat.py) and fans out one task per city; each
is idempotent (conditional updates and unique keys), so a rerun, a duplicate or a redelivered task
after a worker died changes nothing that was already done.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError

from . import services, supervision

log = logging.getLogger(__name__)


@shared_task(name="cases.deadline_sweep", acks_late=True)
def deadline_sweep(at: str | None = None) -> int:
    """Fan out one deadline scan per city (`at`: an ISO moment to scan at instead of now, for a
    replay or a test; the beat schedule never passes it)."""
    tenant_ids = supervision.tenant_ids()
    for tenant_id in tenant_ids:
        deadline_check.delay(tenant_id, at=at)
    return len(tenant_ids)


@shared_task(
    name="cases.deadline_check",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def deadline_check(tenant_id: int, at: str | None = None) -> int:
    """Raise the due reminders, overdue marks and cards of one city and climb late orders."""
    now = dt.datetime.fromisoformat(at) if at else None
    return supervision.deadlines_scan(tenant_id=tenant_id, now=now).advanced


@shared_task(
    name="cases.event_notify",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def case_event_notify(event_id: int) -> int:
    """Inbox items for one timeline entry."""
    return services.case_event_deliver(event_id=event_id)
