"""On PostgreSQL, outside a caller's transaction, the resident import writes each batch on a second
connection while it checks the next (decision 1104): the same rows, reasons and history as one batch
after the other, and a batch that loses a race there is written again whole."""

import threading

import pytest
from django.db import IntegrityError

from grids.registry import bulk, importing
from grids.registry.models import Household, HouseholdTally, ImportJob, ImportStatus, Resident, Tag

from .conftest import resident_row, upload, xlsx

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _job(cast, data):
    job = ImportJob.objects.create(
        tenant=cast.ruian, actor=cast.township_a_staff, kind="residents", original_name="a.xlsx"
    )
    job.source = importing.store_upload(job, upload(data))
    job.save(update_fields=["source"])
    return job


@pytest.fixture
def writer_threads(monkeypatch):
    """The names of the threads that wrote batches."""
    names: list[str] = []
    real = importing._Writer._write

    def spy(writes):
        names.append(threading.current_thread().name)
        return real(writes)

    monkeypatch.setattr(importing._Writer, "_write", staticmethod(spy))
    return names


def test_batches_written_on_a_second_connection_match_the_file_and_a_reupload_changes_nothing(
    cast, settings, writer_threads
):
    settings.REGISTRY_IMPORT_BATCH = 10  # households of three rows straddle the batches
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(62)]
    rows[10] = resident_row(cast.plot_a1.code, "JS-0003", 10, tags="低保")  # changes a household
    rows[20] = resident_row("NO-SUCH-PLOT", "JS-0006", 20)  # refused; its household made a batch before
    data = xlsx(rows)

    job = importing.run_import(_job(cast, data).pk)

    assert writer_threads and all(name.startswith("import-writer") for name in writer_threads)
    assert (job.status, job.added, job.updated, job.unchanged, job.refused) == (
        ImportStatus.DONE,
        61,
        0,
        0,
        1,
    )
    assert Household.objects.count() == 21 and Resident.objects.count() == 61
    assert Household.objects.get(number="JS-0003").tags == Tag.LOW_INCOME
    assert HouseholdTally.objects.get(plot=cast.plot_a1).households == 21
    assert {(r.household.number, r.name) for r in Resident.objects.select_related("household")} == {
        (f"JS-{n // 3:04d}", f"居民{n}") for n in range(62) if n != 20
    }
    # Each household made once (JS-0003, made in one batch and changed in the next, twice).
    assert Household.history.count() == 22
    assert job.processed_rows == 62

    history = (Household.history.count(), Resident.history.count())
    again = importing.run_import(_job(cast, data).pk)
    assert (again.added, again.updated, again.unchanged, again.refused) == (0, 0, 61, 1)
    assert (Household.history.count(), Resident.history.count()) == history
    assert HouseholdTally.objects.get(plot=cast.plot_a1).households == 21


def test_a_batch_that_loses_a_race_on_the_second_connection_is_written_again_whole(
    cast, settings, monkeypatch, writer_threads
):
    """The batch checked meanwhile named a household the failed one had made (rolled back): it is
    checked again after the retry, so no resident points at a household that was never written."""
    settings.REGISTRY_IMPORT_BATCH = 10
    real, failed = bulk.create_later, []

    def lose_once_on_residents(model, objs, **kwargs):
        write = real(model, objs, **kwargs)
        if model is not Resident or failed:
            return write
        failed.append(1)

        def lost():
            write()
            raise IntegrityError("simulated lost race")

        return lost

    monkeypatch.setattr(bulk, "create_later", lose_once_on_residents)
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(30)]

    job = importing.run_import(_job(cast, xlsx(rows)).pk)

    assert failed == [1] and writer_threads
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 30, 0)
    assert Household.objects.count() == 10 and Resident.objects.count() == 30
    assert Household.history.count() == 10 and Resident.history.count() == 30
    assert HouseholdTally.objects.get(plot=cast.plot_a1).households == 10
    assert {(r.household.number, r.name) for r in Resident.objects.select_related("household")} == {
        (f"JS-{n // 3:04d}", f"居民{n}") for n in range(30)
    }


def test_inside_a_transaction_the_batches_are_written_one_after_the_other(cast, settings, writer_threads):
    from django.db import transaction

    settings.REGISTRY_IMPORT_BATCH = 10
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(30)]
    job = _job(cast, xlsx(rows))
    with transaction.atomic():
        job = importing.run_import(job.pk)
    assert writer_threads == [] and job.added == 30 and Resident.objects.count() == 30
