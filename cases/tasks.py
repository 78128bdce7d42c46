"""Thin Celery wrappers over the cases services: ids in, one service call, acks_late.

The deadline sweep runs every ten minutes (ruian_grid/beat.py) and fans out one task per city;
each is idempotent (a unique constraint per deadline and warning level), so reruns change nothing.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from . import services

log = logging.getLogger(__name__)


@shared_task(name="cases.deadline_sweep", acks_late=True)
def deadline_sweep() -> int:
    """Fan out one deadline check per city."""
    tenant_ids = services.tenant_ids_with_deadlines()
    for tenant_id in tenant_ids:
        deadline_check.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    name="cases.deadline_check",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def deadline_check(tenant_id: int) -> int:
    """Raise the due yellow and red warnings of one city."""
    return services.deadline_alerts_raise(tenant_id=tenant_id)


@shared_task(name="cases.event_notify", acks_late=True)
def case_event_notify(event_id: int) -> None:
    """Where notifications (SMS, app push) will hang; for now the event is logged."""
    log.info("case event %s recorded", event_id)
