"""/api/v1/cases/: scoping, recording, transitions as actions (409 on conflicts), timeline, files."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from cases import services
from cases.models import Case, CaseAttachment, CaseEvent, Status

from .conftest import image_bytes, record

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(case=None, action=None) -> str:
    if case is None:
        return "/api/v1/cases/"
    return f"/api/v1/cases/{case.pk}/" + (f"{action}/" if action else "")


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_is_refused(cast, units, case_a1):
    assert APIClient().get(url()).status_code in (401, 403)


def test_lists_follow_scope(cast, units):
    a = record(cast)
    b = record(cast, node=cast.plot_b1, actor=cast.township_b_staff)
    assert ids(api(cast.village_member).get(url())) == {a.pk}
    assert ids(api(cast.township_b_staff).get(url())) == {b.pk}
    assert ids(api(cast.city_admin).get(url())) == {a.pk, b.pk}
    assert ids(api(cast.other_tenant_admin).get(url())) == set()
    assert ids(api(cast.department_user).get(url())) == set()


def test_township_staff_cannot_see_other_township_case(cast, units):
    b = record(cast, node=cast.plot_b1, actor=cast.township_b_staff)
    assert api(cast.township_a_staff).get(url(b)).status_code == 404
    assert api(cast.township_b_staff).get(url(b)).status_code == 200


def test_other_tenant_admin_gets_404(cast, units, case_a1):
    assert api(cast.other_tenant_admin).get(url(case_a1)).status_code == 404
    assert api(cast.other_tenant_admin).get(url(case_a1, "timeline")).status_code == 404
    assert api(cast.city_admin).get(url(case_a1)).status_code == 200


def test_department_user_sees_cases_sent_to_their_department_and_nothing_else(cast, units, case_a1):
    other = record(cast, title="另一件")
    assert api(cast.department_user).get(url(case_a1)).status_code == 404
    services.case_dispatch(actor=cast.township_a_staff, case=case_a1, responsible_unit=units.police)
    response = api(cast.department_user).get(url())
    assert ids(response) == {case_a1.pk}
    assert api(cast.department_user).get(url(other)).status_code == 404
    assert ids(api(cast.department_user).get(url(), {"view": "unit"})) == {case_a1.pk}


def test_assisting_department_sees_the_joint_case(cast, units, case_a1):
    services.case_dispatch(
        actor=cast.township_a_staff,
        case=case_a1,
        responsible_unit=units.shangwang_office,
        assists=[services.AssistSpec(units.police, "维护秩序")],
    )
    assert ids(api(cast.department_user).get(url())) == {case_a1.pk}


def test_record_via_api(cast, units):
    body = {
        "node": cast.plot_a1.pk,
        "kind": "hazard",
        "sub_kind": "fire",
        "source": "patrol",
        "severity": "major",
        "title": "出租房电动车违规充电",
        "parties": [{"name": "张三", "role": "房东", "phone": "13800000000"}],
    }
    response = api(cast.village_member).post(url(), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "registered" and data["tier"] == "cell" and data["version"] == 1
    case = Case.objects.get(pk=data["id"])
    assert case.parties[0]["name"] == "张三" and case.township_id == cast.township_a.pk
    # The party's phone is personal data: encrypted at rest, masked in every answer.
    assert data["parties"] == [{"name": "张三", "role": "房东", "phone": "138****0000"}]
    assert "13800000000" not in str(case.parties) and "13800000000" not in response.content.decode()


def test_record_at_node_out_of_scope_refused_nothing_written(cast, units):
    body = {"node": cast.plot_b1.pk, "kind": "dispute", "source": "visit", "title": "x"}
    response = api(cast.village_member).post(url(), body, format="json")
    assert response.status_code == 400 and "node" in response.json()
    response = api(cast.village_member).post(url(), {**body, "node": cast.other_plot.pk}, format="json")
    assert response.status_code == 400
    assert not Case.objects.exists()
    assert api(cast.township_b_staff).post(url(), body, format="json").status_code == 201


def test_bad_input_refused_nothing_written(cast, units):
    bad = {"node": cast.plot_a1.pk, "kind": "weather", "source": "visit", "title": "x"}
    assert api(cast.village_member).post(url(), bad, format="json").status_code == 400
    bad = {
        "node": cast.plot_a1.pk,
        "kind": "dispute",
        "source": "visit",
        "title": "x",
        "parties": [{"phone": "1"}],
    }
    assert api(cast.village_member).post(url(), bad, format="json").status_code == 400
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_dispatch_accept_submit_close_via_actions(cast, units, case_a1):
    staff, police = api(cast.township_a_staff), api(cast.department_user)
    response = staff.post(
        url(case_a1, "dispatch"),
        {"version": 1, "responsible_unit": units.police.pk, "responsible_person": cast.department_user.pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "dispatched" and response.json()["version"] == 2
    detail = police.get(url(case_a1)).json()
    assert set(detail["actions"]) == {"accept", "return", "dispute", "escalate"}
    assert police.post(url(case_a1, "accept"), {"version": 2}, format="json").status_code == 200
    assert (
        police.post(url(case_a1, "submit"), {"version": 3, "resolution": "已调解"}, format="json").status_code
        == 200
    )
    response = staff.post(url(case_a1, "close"), {"version": 4, "satisfaction": "satisfied"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    timeline = staff.get(url(case_a1, "timeline")).json()
    assert [e["action"] for e in timeline] == ["record", "dispatch", "accept", "submit", "close"]


def test_stale_version_gets_409_and_nothing_written(cast, units, dispatched):
    response = api(cast.department_user).post(url(dispatched, "accept"), {"version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["version"] == 2
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED and dispatched.events.count() == 2


def test_action_not_allowed_from_state_gets_409(cast, units, case_a1):
    response = api(cast.township_a_staff).post(
        url(case_a1, "close"), {"satisfaction": "satisfied"}, format="json"
    )
    assert response.status_code == 409 and "detail" in response.json()


def test_not_entitled_gets_403_then_entitled_succeeds(cast, units, case_a1):
    body = {"responsible_unit": units.police.pk}
    response = api(cast.village_member).post(url(case_a1, "dispatch"), body, format="json")
    assert response.status_code == 403
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED
    assert api(cast.township_a_staff).post(url(case_a1, "dispatch"), body, format="json").status_code == 200


def test_out_of_scope_action_is_404(cast, units, case_a1):
    body = {"responsible_unit": units.police.pk}
    assert api(cast.township_b_staff).post(url(case_a1, "dispatch"), body, format="json").status_code == 404
    assert api(cast.other_tenant_admin).post(url(case_a1, "dispatch"), body, format="json").status_code == 404


def test_dispatch_to_unit_of_other_city_refused(cast, units, case_a1):
    body = {"responsible_unit": units.pingyang_police.pk}
    response = api(cast.township_a_staff).post(url(case_a1, "dispatch"), body, format="json")
    assert response.status_code == 400 and "responsible_unit" in response.json()


def test_deadline_in_the_past_refused_via_api(cast, units, case_a1):
    body = {"responsible_unit": units.police.pk, "due_at": "2020-01-01T10:00:00+08:00"}
    response = api(cast.township_a_staff).post(url(case_a1, "dispatch"), body, format="json")
    assert response.status_code == 400 and "due_at" in response.json()
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED


def test_filters(cast, units):
    a = record(cast, kind="hazard", sub_kind="fire")
    b = record(cast, node=cast.plot_a3, actor=cast.township_a_staff)
    client = api(cast.township_a_staff)
    assert ids(client.get(url(), {"kind": "hazard"})) == {a.pk}
    assert ids(client.get(url(), {"node": cast.cell_a2.pk})) == {b.pk}
    assert ids(client.get(url(), {"node": cast.cell_a1.pk})) == {a.pk}
    assert ids(client.get(url(), {"status": "closed"})) == set()
    assert ids(client.get(url(), {"view": "mine"})) == {b.pk}
    assert ids(client.get(url(), {"overdue": "true"})) == set()
    assert client.get(url(), {"kind": "weather"}).status_code == 400


def test_list_is_keyset_paginated_without_count(cast, units):
    for i in range(5):
        record(cast, title=f"case {i}")
    client = api(cast.city_admin)
    first = client.get(url(), {"page_size": 2}).json()
    assert "count" not in first and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert not ({r["id"] for r in first["results"]} & {r["id"] for r in second["results"]})


def test_list_query_budget(cast, units, django_assert_max_num_queries):
    for i in range(10):
        record(cast, title=f"case {i}")
    client = api(cast.township_a_staff)
    # grants (1), memberships (1), the page of cases with node/unit/person joined (1); +2 slack for
    # session/auth in other clients.
    with django_assert_max_num_queries(5):
        response = client.get(url())
    assert len(response.json()["results"]) == 10


def test_detail_query_budget(cast, units, in_hand, django_assert_max_num_queries):
    client = api(cast.township_a_staff)
    # grants view (1), memberships (1), case with joins (1), parts (1), attachments (1), manage grants (1)
    with django_assert_max_num_queries(7):
        assert client.get(url(in_hand)).status_code == 200


def test_upload_and_download_attachment(cast, units, case_a1):
    upload = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = api(cast.village_member).post(
        url(case_a1, "attachments"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    attachment = CaseAttachment.objects.get()
    assert case_a1.events.filter(action="attach").exists()
    from django.test import Client

    web = Client()
    web.force_login(cast.township_b_staff)
    assert web.get(response.json()["url"]).status_code == 404
    web.force_login(cast.township_a_staff)
    got = web.get(response.json()["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    served = b"".join(got.streaming_content)
    assert served.startswith(b"\x89PNG") and Image.open(io.BytesIO(served)).size == (4, 3)
    assert attachment.file.name.startswith("cases/")


def test_upload_wrong_type_or_disguised_refused(cast, units, case_a1):
    client = api(cast.village_member)
    exe = SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 10)
    assert client.post(url(case_a1, "attachments"), {"file": exe}, format="multipart").status_code == 400
    fake = SimpleUploadedFile("photo.jpg", b"<html>not a jpeg</html>")
    assert client.post(url(case_a1, "attachments"), {"file": fake}, format="multipart").status_code == 400
    assert not CaseAttachment.objects.exists()


def test_upload_too_large_refused(cast, units, case_a1, settings):
    settings.CASES_ATTACHMENT_MAX_BYTES = 32
    big = SimpleUploadedFile("big.png", PNG)
    response = api(cast.village_member).post(url(case_a1, "attachments"), {"file": big}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not CaseAttachment.objects.exists()


def test_upload_by_out_of_scope_user_refused(cast, units, case_a1):
    upload = SimpleUploadedFile("a.png", PNG)
    assert (
        api(cast.township_b_staff)
        .post(url(case_a1, "attachments"), {"file": upload}, format="multipart")
        .status_code
        == 404
    )
    upload = SimpleUploadedFile("a.png", PNG)
    assert (
        api(cast.township_a_staff)
        .post(url(case_a1, "attachments"), {"file": upload}, format="multipart")
        .status_code
        == 201
    )


def test_units_list_is_the_users_city(cast, units):
    names = {u["name"] for u in api(cast.township_a_staff).get("/api/v1/units/").json()["results"]}
    assert "市公安局" in names and "平阳县公安局" not in names
    assert api(cast.other_tenant_admin).get("/api/v1/units/").json()["results"][0]["name"] == "平阳县公安局"


def test_openapi_documents_the_actions():
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.routers import DefaultRouter

    from cases.api import CaseViewSet, UnitViewSet

    router = DefaultRouter()
    router.register("cases", CaseViewSet, basename="case")
    router.register("units", UnitViewSet, basename="unit")
    patterns = [path("api/v1/", include(router.urls))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "/api/v1/cases/{id}/dispatch/" in paths and "/api/v1/cases/{id}/request-extension/" in paths
    assert "409" in paths["/api/v1/cases/{id}/accept/"]["post"]["responses"]


def test_a_gif_that_is_also_html_is_stored_as_a_clean_png(cast, units, case_a1):
    """A real GIF carrying an HTML page (in a comment and after its end) is decoded and drawn again:
    what is stored and served is a PNG holding none of the uploaded bytes' payload."""
    payload = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = image_bytes("GIF", comment=payload) + payload
    assert payload in polyglot
    upload = SimpleUploadedFile("photo.gif", polyglot, content_type="image/gif")
    response = api(cast.village_member).post(
        url(case_a1, "attachments"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    attachment = CaseAttachment.objects.get()
    assert (attachment.name, attachment.content_type) == ("photo.png", "image/png")
    with attachment.file.open("rb") as fh:
        stored = fh.read()
    assert stored.startswith(b"\x89PNG") and b"<script" not in stored and attachment.size == len(stored)


def test_a_gif_header_in_front_of_html_is_refused_in_chinese(cast, units, case_a1):
    upload = SimpleUploadedFile("photo.gif", b"GIF89a<html><script>alert(1)</script></html>")
    response = api(cast.village_member).post(
        url(case_a1, "attachments"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["该文件不是可读取的图片（JPEG、PNG、GIF 或 WebP）。"]}
    assert not CaseAttachment.objects.exists()
    real = SimpleUploadedFile("photo.gif", image_bytes("GIF"))
    assert (
        api(cast.village_member)
        .post(url(case_a1, "attachments"), {"file": real}, format="multipart")
        .status_code
        == 201
    )


def test_photo_metadata_is_stripped(cast, units, case_a1):
    from PIL import Image as PILImage

    exif = PILImage.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {2: (27.0, 47.0, 0.0)}  # GPS latitude
    photo = image_bytes("JPEG", exif=exif.tobytes())
    assert b"Camera maker" in photo
    upload = SimpleUploadedFile("site.jpeg", photo, content_type="image/jpeg")
    assert (
        api(cast.village_member)
        .post(url(case_a1, "attachments"), {"file": upload}, format="multipart")
        .status_code
        == 201
    )
    attachment = CaseAttachment.objects.get()
    with attachment.file.open("rb") as fh:
        stored = fh.read()
    assert attachment.name == "site.jpg" and b"Camera maker" not in stored
    assert not PILImage.open(io.BytesIO(stored)).getexif()


def test_a_200000_character_description_is_refused_and_nothing_stored(cast, units):
    body = {
        "node": cast.plot_a1.pk,
        "kind": "dispute",
        "source": "visit",
        "title": "x",
        "description": "长" * 200_000,
    }
    response = api(cast.village_member).post(url(), body, format="json")
    assert response.status_code == 400 and "5000" in response.json()["description"][0]
    assert not Case.objects.exists()
    body["description"] = "长" * 5001
    response = api(cast.village_member).post(url(), body, format="json")
    assert response.status_code == 400 and "5000" in response.json()["description"][0]
    assert not Case.objects.exists()
    body["description"] = "长" * 5000
    assert api(cast.village_member).post(url(), body, format="json").status_code == 201


def test_the_service_refuses_a_description_over_its_limit(cast, units):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        record(cast, description="x" * 5001)
    assert raised.value.message_dict["description"] == ["最多 5000 个字符（当前 5001 个）。"]
    assert not Case.objects.exists()
