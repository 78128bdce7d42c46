"""Thin Celery wrappers over the registry's services: ids in, one call, acks_late."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import importing, services


@shared_task(
    name="registry.import",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def registry_import(job_id: int) -> None:
    """Run one uploaded workbook's import (the job row names the stored file; no data in the message)."""
    importing.run_import(job_id)


@shared_task(name="registry.purge_import_files", acks_late=True)
def registry_purge_import_files(days: int = 7) -> int:
    """Daily: delete old refused-row files and close imports that never finished."""
    return services.import_files_purge(days=days)


@shared_task(name="registry.rekey", acks_late=True)
def registry_rekey() -> int:
    """After a key rotation: re-encrypt stored numbers under the current key (idempotent)."""
    return services.personal_data_rekey()
