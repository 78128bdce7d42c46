"""A worker killed halfway through an import: the redelivered task applies each row once."""

import pytest
from django.conf import settings as django_settings

from grids.registry import importing
from grids.registry.models import Household, ImportJob, ImportStatus, Resident
from ruian_grid.celery import app

from .conftest import resident_row, upload, xlsx


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the import may catch it."""


def test_every_task_is_acknowledged_late_and_requeued_when_its_worker_dies():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"registry.import", "cases.deadline_check"} <= set(ours)
    assert [name for name, task in ours.items() if not task.acks_late] == []
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_import_killed_halfway_and_run_again_registers_each_person_once(cast, settings, monkeypatch):
    settings.REGISTRY_IMPORT_BATCH = 10
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(60)]
    job = ImportJob.objects.create(
        tenant=cast.ruian, actor=cast.township_a_staff, kind="residents", original_name="a.xlsx"
    )
    job.source = importing.store_upload(job, upload(xlsx(rows)))
    job.save(update_fields=["source"])

    flush, calls = importing._flush, []

    def dies_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return flush(*args, **kwargs)

    monkeypatch.setattr(importing, "_flush", dies_on_the_third_batch)
    with pytest.raises(Killed):
        importing.run_import(job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and Resident.objects.count() == 20  # two batches in
    monkeypatch.setattr(importing, "_flush", flush)

    job = importing.run_import(job.pk)  # the redelivered task
    assert job.status == ImportStatus.DONE
    assert Resident.objects.count() == 60 and Household.objects.count() == 20
    assert Resident.objects.values("id_number_hash").distinct().count() == 60
    assert (job.added, job.unchanged) == (40, 20)
    # A third delivery (a duplicate message) changes nothing.
    assert importing.run_import(job.pk).added == 40 and Resident.objects.count() == 60
