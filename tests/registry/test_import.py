import pytest

from grids.registry import importing, services
from grids.registry.models import Household, ImportJob, ImportStatus, Resident

from .conftest import resident_row, upload, xlsx


def _run(actor, data, capture, kind="residents", name="登记表.xlsx"):
    with capture(execute=True):
        job = services.import_start(actor=actor, kind=kind, upload=upload(data, name))
    job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=False)
def test_import_adds_households_and_residents_then_reupload_changes_nothing(cast, django_capture_on_commit_callbacks):
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(30)]
    data = xlsx(rows)
    job = _run(cast.township_a_staff, data, django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.updated, job.unchanged, job.refused) == (ImportStatus.DONE, 30, 0, 0, 0)
    assert Household.objects.count() == 10
    assert Resident.objects.count() == 30
    history = Resident.history.count()
    again = _run(cast.township_a_staff, data, django_capture_on_commit_callbacks)
    assert (again.added, again.updated, again.unchanged, again.refused) == (0, 0, 30, 0)
    assert Resident.history.count() == history
    assert Resident.history.first().history_user == cast.township_a_staff
