"""Thin Celery wrappers over `reports.summary`: ids in, one call, acks_late.

The monthly summary is refreshed every hour (ruian_grid/beat.py), one task per city; a refresh is
idempotent (it rewrites the window's rows under a per-city lock), so a rerun, a duplicate or a task
redelivered after a worker died leaves the same rows.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import summary


@shared_task(name="reports.summary_refresh", acks_late=True)
def summary_refresh() -> int:
    """Fan out one summary refresh per city."""
    tenant_ids = summary.tenant_ids()
    for tenant_id in tenant_ids:
        summary_refresh_city.delay(tenant_id)
    return len(tenant_ids)


@shared_task(
    name="reports.summary_refresh_city",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def summary_refresh_city(tenant_id: int) -> int:
    """Rewrite one city's monthly summary of the past months the dashboards reach."""
    return summary.refresh(tenant_id=tenant_id)
