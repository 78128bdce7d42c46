"""Numbers as Chinese input methods and spreadsheets deliver them: full-width, with invisible
characters, as Excel numbers, below a title row; and control characters, which no path accepts."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from grids.registry import exports, importing, selectors, services
from grids.registry.forms import ResidentForm
from grids.registry.models import Household, ImportStatus, Resident
from grids.registry.synthetic import mobile, resident_id
from grids.registry.validators import normalize_identifier, parse_resident_id

from .conftest import resident_row, upload, xlsx

FULL_WIDTH = str.maketrans("0123456789Xx -", "０１２３４５６７８９Ｘｘ\u3000－")


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _an_id_ending_in_x() -> str:
    return next(n for n in (resident_id(i) for i in range(200)) if n.endswith("X"))


def test_full_width_and_invisible_characters_normalise_to_the_same_number():
    number = _an_id_ending_in_x()
    typed = "\ufeff" + full_width(number[:6] + " " + number[6:14] + "-" + number[14:].lower()) + "\u200b"
    assert typed != number
    assert normalize_identifier(typed) == number
    assert parse_resident_id(typed).number == number
    with pytest.raises(ValidationError):  # other scripts' digits are not ID digits
        parse_resident_id("٣" * 17 + "X")


def test_a_full_width_id_number_registers_once_and_search_finds_it(cast, people):
    number = _an_id_ending_in_x()
    resident = services.resident_create(
        actor=cast.township_a_staff, household=people.h1, name="全角", id_number=full_width(number.lower())
    )
    assert resident.id_number_masked.startswith(number[:3])
    with pytest.raises(ValidationError):  # the same person, typed half-width: already registered
        services.resident_create(
            actor=cast.township_a_staff, household=people.h2, name="半角", id_number=number
        )
    assert Resident.objects.filter(name__in=["全角", "半角"]).count() == 1
    assert list(selectors.search_residents(cast.township_a_staff, number)) == [resident]
    assert list(selectors.search_residents(cast.township_a_staff, full_width(number))) == [resident]
    phone = mobile(77)
    services.resident_update(actor=cast.township_a_staff, resident=resident, phone=full_width(phone))
    assert list(selectors.search_residents(cast.township_a_staff, full_width(phone))) == [resident]
    # ...and a user outside the township finds nothing by the same number.
    assert not selectors.search_residents(cast.township_b_staff, number).exists()


def test_the_api_takes_a_full_width_id_number(cast, people):
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    number = resident_id(321)
    response = client.post(
        "/api/v1/registry/residents/",
        {"household": people.h1.pk, "name": "王全角", "id_number": full_width(number)},
        format="json",
    )
    assert response.status_code == 201, response.content
    found = client.post("/api/v1/registry/residents/search/", {"q": number}, format="json")
    assert [r["name"] for r in found.json()["results"]] == ["王全角"]


def test_control_characters_are_refused_by_forms_and_the_api_and_nothing_is_written(cast, people):
    form = ResidentForm(
        data={
            "name": "林\x01阿婆",
            "id_type": "resident_id",
            "id_number": resident_id(5),
            "population_type": "registered",
            "relation": "other",
        }
    )
    assert not form.is_valid()
    assert "control characters" in form.errors["name"][0]
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    with translation.override("zh-hans"):
        response = client.post(
            "/api/v1/registry/households/",
            {"plot": cast.plot_a1.pk, "number": "JS-9", "address": "九三村\x07号"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    assert "控制字符" in response.json()["address"][0]
    assert not Household.objects.filter(number="JS-9").exists()
    # Tabs and line breaks are text, not control characters.
    ok = client.post(
        "/api/v1/registry/households/",
        {"plot": cast.plot_a1.pk, "number": "JS-9", "address": "九三村\t9号"},
        format="json",
    )
    assert ok.status_code == 201, ok.content


def test_an_export_still_opens_when_a_stored_value_holds_a_control_character(cast, people):
    Household.objects.filter(pk=people.h1.pk).update(address="九三村\x01号")  # stored before the check
    data = exports.export_xlsx("households", selectors.households_for(cast.township_a_staff))
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert "九三村号" in [r[2] for r in rows]
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    assert client.get("/api/v1/registry/households/export/").status_code == 200


def _run(actor, data, capture):
    with capture(execute=True):
        job = services.import_start(actor=actor, kind="residents", upload=upload(data))
    job.refresh_from_db()
    return job


def _titled(rows, titles):
    workbook = Workbook()
    sheet = workbook.active
    for title in titles:
        sheet.append(title)
    sheet.append([c.header for c in importing.COLUMNS["residents"]])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_import_with_title_rows_above_the_headers_is_read(cast, django_capture_on_commit_callbacks):
    rows = [resident_row(cast.plot_a1.code, "JS-T1", n) for n in (1, 2)]
    data = _titled(rows, [["上望街道九三村人口登记表"], [], ["填报单位：九三村", None, "日期：2026-07-01"]])
    job = _run(cast.township_a_staff, data, django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 2, 0)


def test_headers_further_down_than_the_first_rows_are_refused_with_a_clear_answer(cast):
    data = _titled([resident_row(cast.plot_a1.code, "JS-T1", 1)], [[f"说明{n}"] for n in range(10)])
    with pytest.raises(ValidationError) as err:
        services.import_start(actor=cast.township_a_staff, kind="residents", upload=upload(data))
    assert "None of the first 10 rows" in " ".join(err.value.messages)


def test_an_id_number_excel_turned_into_a_number_is_refused_saying_how_to_fix_it(
    cast, django_capture_on_commit_callbacks
):
    number = next(n for n in (resident_id(i) for i in range(50)) if not n.endswith("X"))
    rows = [
        resident_row(cast.plot_a1.code, "JS-N1", 1, id_number=float(number)),  # as Excel keeps it
        # A workbook cannot hold U+0001 (Excel writes it as the text "_x0001_"), but it can hold the
        # C1 controls, which the registry refuses as well.
        resident_row(cast.plot_a1.code, "JS-N1", 2, name="赵\x9b某"),
        resident_row(cast.plot_a1.code, "JS-N1", 3),
    ]
    job = _run(cast.township_a_staff, xlsx(rows), django_capture_on_commit_callbacks)
    assert (job.status, job.added, job.refused) == (ImportStatus.DONE, 1, 2)
    with translation.override("en"):
        from django.core.files.storage import default_storage

        with default_storage.open(job.refused_file, "rb") as fh:
            refused = list(load_workbook(io.BytesIO(fh.read())).active.iter_rows(values_only=True))[1:]
    reasons = {r[-2]: r[-1] for r in refused}
    assert "formatted as a number" in reasons[2] and "text" in reasons[2]
    assert "control characters" in reasons[3]
    assert number not in " ".join(reasons.values())
