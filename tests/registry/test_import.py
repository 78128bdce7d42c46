import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from grids import scoping
from grids.registry import importing, services
from grids.registry.models import Establishment, Household, ImportJob, ImportStatus, Resident
from grids.registry.synthetic import credit_code, mobile, resident_id

from ..planner import analyzed_rows
from .conftest import resident_row, upload, xlsx


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English (the active language otherwise leaks in from earlier requests)."""
    with translation.override("en"):
        yield


def _run(actor, data, capture, kind="residents", name="登记表.xlsx"):
    with capture(execute=True):
        job = services.import_start(actor=actor, kind=kind, upload=upload(data, name))
    job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=False)
def test_import_adds_households_and_residents_then_reupload_changes_nothing(
    cast, django_capture_on_commit_callbacks
):
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(30)]
    data = xlsx(rows)
    job = _run(cast.township_a_staff, data, django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.updated, job.unchanged, job.refused) == (
        ImportStatus.DONE,
        30,
        0,
        0,
        0,
    )
    assert Household.objects.count() == 10
    assert Resident.objects.count() == 30
    # The import ends with ANALYZE of what it wrote: the planner knows the tables' new sizes.
    assert analyzed_rows("grids_household") == 10
    assert analyzed_rows("grids_resident") == 30
    assert analyzed_rows("grids_historicalresident") == 30
    history = Resident.history.count()
    again = _run(cast.township_a_staff, data, django_capture_on_commit_callbacks)
    assert (again.added, again.updated, again.unchanged, again.refused) == (0, 0, 30, 0)
    assert Resident.history.count() == history
    assert Resident.history.first().history_user == cast.township_a_staff


def _refused_rows(job):
    from io import BytesIO

    from django.core.files.storage import default_storage
    from openpyxl import load_workbook

    with default_storage.open(job.refused_file, "rb") as fh:
        sheet = load_workbook(BytesIO(fh.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == importing.REASON_HEADER
    return rows[1:]


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"name,id\n1,2\n", "people.csv", ".xlsx"),
        (b"not a zip at all", "people.xlsx", ".xlsx"),
        (b"PK\x03\x04 broken zip", "people.xlsx", ".xlsx"),
        (b"", "people.xlsx", "empty"),
    ],
)
def test_files_that_are_not_workbooks_are_refused_at_upload_and_nothing_is_stored(cast, data, name, needle):
    with pytest.raises(ValidationError) as err:
        services.import_start(actor=cast.township_a_staff, kind="residents", upload=upload(data, name))
    assert needle in " ".join(err.value.messages)
    assert not ImportJob.objects.exists()


def test_wrong_headers_and_empty_sheets_are_refused_with_a_clear_answer(cast):
    cases = [
        (xlsx([["x"]], header=["姓名", "身份证"]), "片格编码"),
        (xlsx([], header=[]), "empty"),
        (xlsx([]), "no rows"),
    ]
    for data, needle in cases:
        with pytest.raises(ValidationError) as err:
            services.import_start(actor=cast.township_a_staff, kind="residents", upload=upload(data))
        assert needle in " ".join(err.value.messages)
    assert not ImportJob.objects.exists() and not Household.objects.exists()


def test_rows_with_bad_numbers_or_out_of_scope_plots_are_refused_with_reasons(
    cast, people, django_capture_on_commit_callbacks
):
    good = resident_id(1)
    rows = [
        resident_row(cast.plot_a1.code, "JS-1", 1),
        resident_row(cast.plot_a1.code, "JS-1", 2, id_number=good[:-1] + ("0" if good[-1] != "0" else "1")),
        resident_row(cast.plot_a1.code, "JS-1", 3, phone="12345"),
        resident_row(cast.plot_b1.code, "LB-9", 4),  # Tangxia: outside Shangwang's scope
        resident_row(cast.other_plot.code, "PY-1", 5),  # another city
        resident_row(cast.plot_a1.code, "JS-2", 1),  # same person twice in the file
        resident_row(cast.plot_a1.code, "LB-0001", 6),  # a household number registered in Tangxia
        resident_row(cast.plot_a1.code, "JS-3", 1003),  # a person registered in Tangxia
        resident_row(cast.plot_a1.code, "", 7),
        resident_row(cast.plot_a1.code, "JS-4", 8, population_type="火星人"),
    ]
    job = _run(cast.township_a_staff, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 1, 9)
    refused = _refused_rows(job)
    assert [r[-2] for r in refused] == list(range(3, 12))
    reasons = [r[-1] for r in refused]
    assert all(reasons)
    assert all(resident_id(n) not in " ".join(reasons) for n in range(10))
    assert Resident.objects.filter(tenant=cast.ruian).count() == 4  # the three of `people` and one new


def test_number_errors_are_reported_in_the_order_the_row_is_checked(cast, django_capture_on_commit_callbacks):
    """ID and phone numbers are parsed and hashed while the sheet is read; the reason a row gets is
    still the first check it fails, in the order: required cells, plot, document type, numbers."""
    good = resident_id(1)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        resident_row(cast.plot_a1.code, "JS-1", 1),
        resident_row(cast.plot_a1.code, "JS-1", 2, id_number=bad_check),
        resident_row(cast.plot_a1.code, "JS-1", 3, phone="12345"),
        resident_row(cast.plot_a1.code, "JS-2", 4, id_type="火星证", id_number=bad_check),
        resident_row(cast.plot_a1.code, "JS-2", 5, id_number="", phone="12345"),
        resident_row("33038100000000", "JS-2", 6, id_number=bad_check),
        resident_row(cast.plot_a1.code, "JS-2", 7, id_number="330381X"),
    ]
    job = _run(cast.township_a_staff, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.added, job.refused) == (1, 6)
    assert [r[-1] for r in _refused_rows(job)] == [
        "The ID number's check digit is wrong.",
        "A mainland mobile number is 11 digits starting with 13 to 19.",
        "Unknown value “火星证”; use one of: 居民身份证、身份证、护照、其他证件.",
        "证件号码 is required.",
        "Plot code unknown or outside your grid.",
        "A resident ID number is 17 digits followed by a digit or X.",
    ]


def test_reupload_with_a_changed_phone_updates_and_keeps_history(cast, django_capture_on_commit_callbacks):
    rows = [resident_row(cast.plot_a1.code, "JS-1", n) for n in range(3)]
    _run(cast.village_member, xlsx(rows), django_capture_on_commit_callbacks)
    rows[1] = resident_row(cast.plot_a1.code, "JS-1", 1, phone=mobile(999))
    job = _run(cast.village_member, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.added, job.updated, job.unchanged) == (0, 1, 2)
    resident = Resident.objects.get(name="居民1")
    assert resident.phone_masked == mobile(999)[:3] + "****" + mobile(999)[-4:]
    assert resident.history.count() == 2
    assert resident.history.first().history_change_reason == f"import #{job.pk}"


def test_running_a_finished_job_again_changes_nothing(cast, django_capture_on_commit_callbacks):
    job = _run(
        cast.village_member,
        xlsx([resident_row(cast.plot_a1.code, "JS-1", 1)]),
        django_capture_on_commit_callbacks,
    )
    assert importing.run_import(job.pk).added == 1
    assert Resident.objects.count() == 1


def test_buildings_and_establishments_import_then_households_link_to_dwellings(
    cast, django_capture_on_commit_callbacks
):
    code = cast.plot_a1.code
    buildings = [
        [code, "JS-B01", "九三村1幢", "住宅", 3, "101", "自住"],
        [code, "JS-B01", "九三村1幢", "住宅", 3, "102", "出租"],
        [code, "JS-B02", "九三村2幢", "厂房", "", "", ""],
        [code, "JS-B03", "九三村3幢", "住宅", "很多", "", ""],
    ]
    job = _run(
        cast.village_member,
        xlsx(buildings, kind="buildings"),
        django_capture_on_commit_callbacks,
        kind="buildings",
    )
    assert (job.added, job.refused) == (3, 1)
    again = _run(
        cast.village_member,
        xlsx(buildings, kind="buildings"),
        django_capture_on_commit_callbacks,
        kind="buildings",
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    establishments = [
        [code, credit_code(1), "九三五金厂", "企业", "九三村工业区2号", "JS-B02", 35, "林某", mobile(50)],
        [code, wrong_check(credit_code(2)), "坏代码厂", "企业", "", "", "", "", ""],
    ]
    job = _run(
        cast.village_member,
        xlsx(establishments, kind="establishments"),
        django_capture_on_commit_callbacks,
        kind="establishments",
    )
    assert (job.added, job.refused) == (1, 1)
    est = Establishment.objects.get()
    assert est.building.code == "JS-B02" and est.contact_phone_masked.startswith("199")
    people = [
        resident_row(code, "JS-1", 1, building="JS-B01", room="102"),
        resident_row(code, "JS-2", 2, building="JS-B09", room="1"),
    ]
    job = _run(cast.village_member, xlsx(people), django_capture_on_commit_callbacks)
    assert (job.added, job.refused) == (1, 1)
    assert Household.objects.get(number="JS-1").dwelling.number == "102"


def wrong_check(code):
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def test_household_counts_of_townships_come_from_one_aggregate_query(cast, people, django_assert_num_queries):
    from grids.models import Level
    from grids.registry import selectors

    scoping.forget(cast.city_admin)
    selectors.household_counts(cast.city_admin)  # warm the grants cache
    with django_assert_num_queries(1):
        counts = selectors.household_counts(cast.city_admin, Level.TOWNSHIP)
    assert counts == {cast.township_a.pk: 2, cast.township_b.pk: 1}


def test_purge_deletes_old_refused_files_and_closes_stuck_imports(cast, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.core.files.storage import default_storage
    from django.utils import timezone

    job = _run(
        cast.village_member,
        xlsx([resident_row(cast.plot_b1.code, "LB-1", 1)]),
        django_capture_on_commit_callbacks,
    )
    assert job.refused == 1 and default_storage.exists(job.refused_file)
    stuck = ImportJob.objects.create(
        tenant=cast.ruian, actor=cast.village_member, kind="residents", original_name="x.xlsx"
    )
    assert services.import_files_purge(days=7) == 0
    later = timezone.now() + dt.timedelta(days=8)
    ImportJob.objects.filter(pk=job.pk).update(
        finished_at=later - dt.timedelta(days=8) - dt.timedelta(days=8)
    )
    ImportJob.objects.filter(pk=stuck.pk).update(created_at=later - dt.timedelta(days=10))
    assert services.import_files_purge(days=7) == 2
    job.refresh_from_db()
    stuck.refresh_from_db()
    assert job.refused_file == "" and stuck.status == ImportStatus.FAILED
    assert services.import_files_purge(days=7) == 0


def test_demo_residents_seed_is_idempotent(cast, people):
    from grids.registry.demo import residents_seed

    households = [people.h1, people.h2]
    assert residents_seed(households=households, start=5000) == 6
    assert residents_seed(households=households, start=5000) == 0
    assert Resident.objects.filter(household=people.h1).count() == 4


def test_a_batch_that_fails_to_write_leaves_nothing_half_written(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import IntegrityError

    from grids.registry import bulk

    real = bulk.create_with_history

    def fail_on_residents(model, objs, **kwargs):
        if model is Resident:
            raise IntegrityError("simulated lost race")
        return real(model, objs, **kwargs)

    monkeypatch.setattr(bulk, "create_with_history", fail_on_residents)
    rows = [resident_row(cast.plot_a1.code, f"JS-{n}", n) for n in range(4)]
    job = _run(cast.village_member, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 0, 4)
    assert not Household.objects.exists()  # the batch's households went back with its residents
    assert "concurrent" in _refused_rows(job)[0][-1]


def test_a_batch_that_loses_one_race_is_written_whole_on_its_retry(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    """The retry checks the batch again: its rows are not taken for repeats of themselves, and the
    households the failed attempt made (rolled back) are made again."""
    from django.db import IntegrityError

    from grids.registry import bulk

    real, calls = bulk.create_with_history, []

    def fail_once_on_residents(model, objs, **kwargs):
        if model is Resident and not calls:
            calls.append(1)
            raise IntegrityError("simulated lost race")
        return real(model, objs, **kwargs)

    monkeypatch.setattr(bulk, "create_with_history", fail_once_on_residents)
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 2}", n) for n in range(4)]
    job = _run(cast.village_member, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 4, 0)
    assert Household.objects.count() == 2 and Resident.objects.count() == 4
    assert set(Resident.objects.values_list("household__number", flat=True)) == {"JS-0", "JS-1"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_file_at_once_register_each_person_once(cast, settings):
    import threading

    from django.db import connection

    settings.REGISTRY_IMPORT_BATCH = 40
    rows = [resident_row(cast.plot_a1.code, f"JS-{n // 3:04d}", n) for n in range(240)]
    data = xlsx(rows)
    jobs = []
    for _ in range(2):
        job = ImportJob.objects.create(
            tenant=cast.ruian, actor=cast.township_a_staff, kind="residents", original_name="a.xlsx"
        )
        job.source = importing.store_upload(job, upload(data))
        job.save(update_fields=["source"])
        jobs.append(job)
    errors = []

    def run(job_id):
        try:
            importing.run_import(job_id)
        except Exception as exc:  # noqa: BLE001 - reported to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(j.pk,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for job in jobs:
        job.refresh_from_db()
    assert all(j.status == ImportStatus.DONE for j in jobs)
    assert Resident.objects.count() == 240 and Household.objects.count() == 80
    assert sum(j.added for j in jobs) == 240


def test_a_file_damaged_part_way_fails_with_a_clear_message(
    cast, settings, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    settings.REGISTRY_IMPORT_BATCH = 5
    data = xlsx([resident_row(cast.plot_a1.code, f"JS-{n}", n) for n in range(20)])
    source, damaged = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cut = content.index(b'<row r="15"')
                content = content[:cut] + b"<row r=<<broken"
            out.writestr(item, content)
    job = _run(cast.village_member, damaged.getvalue(), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.FAILED and "damaged" in job.message
    assert Resident.objects.count() == job.added == 10  # whole batches only
