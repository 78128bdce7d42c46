"""Thin Celery wrappers over the mechanisms' services: plain values in, one service call, acks_late.

Periodic tasks fan out one task per city. Each is idempotent by a unique constraint or a conditional
UPDATE (one review per node and month, one draft per node, kind and week, one reminder per row).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from . import services

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


def _local_today(tenant_id: int) -> dt.date:
    return timezone.now().astimezone(services.tenant_zone(tenant_id)).date()


@shared_task(name="mechanisms.reviews_open", acks_late=True)
def reviews_open() -> int:
    for tenant_id in services.tenant_ids():
        reviews_open_city.delay(tenant_id)
    return len(services.tenant_ids())


@shared_task(name="mechanisms.reviews_open_city", **RETRY)
def reviews_open_city(tenant_id: int) -> int:
    """Open last month's reviews of one city (a rerun within the month writes nothing)."""
    month = services.previous_month(_local_today(tenant_id))
    return services.reviews_open_month(tenant_id=tenant_id, month=month)


@shared_task(name="mechanisms.daily_sweep", acks_late=True)
def daily_sweep() -> int:
    for tenant_id in services.tenant_ids():
        sweep_city.delay(tenant_id)
    return len(services.tenant_ids())


@shared_task(name="mechanisms.sweep_city", **RETRY)
def sweep_city(tenant_id: int) -> dict[str, object]:
    """Chase late reviews, expire and chase warnings, remind and supervise meeting decisions."""
    return {
        "reviews": services.reviews_chase(tenant_id=tenant_id),
        "warnings": services.warnings_sweep(tenant_id=tenant_id),
        "decisions": services.decisions_sweep(tenant_id=tenant_id),
    }


@shared_task(name="mechanisms.early_warning", acks_late=True)
def early_warning() -> int:
    for tenant_id in services.tenant_ids():
        early_warning_city.delay(tenant_id)
    return len(services.tenant_ids())


@shared_task(name="mechanisms.early_warning_city", **RETRY)
def early_warning_city(tenant_id: int) -> int:
    """Test yesterday's last 7 days of one city against their baseline."""
    day = _local_today(tenant_id) - dt.timedelta(days=1)
    return services.early_warning_scan(tenant_id=tenant_id, day=day)
