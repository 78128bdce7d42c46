"""Case pages: lists per tier, recording, the case page with its actions, files, scoping."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import Case, CaseAttachment, Status

from .conftest import image_bytes, record

pytestmark = pytest.mark.django_db


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in(cast, units, case_a1):
    response = Client().get(reverse("cases:detail", args=[case_a1.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_shows_only_cases_in_scope(cast, units):
    a = record(cast, title="九三村的纠纷")
    record(cast, node=cast.plot_b1, actor=cast.township_b_staff, title="林北村的纠纷")
    body = web(cast.township_a_staff).get(reverse("cases:list")).content.decode()
    assert "九三村的纠纷" in body and "林北村的纠纷" not in body
    assert f'href="/cases/{a.pk}/"' in body
    assert "data-label" in body


def test_list_views_and_filters(cast, units, dispatched):
    client = web(cast.department_user)
    assert dispatched.title in client.get(reverse("cases:list"), {"view": "unit"}).content.decode()
    assert dispatched.title not in client.get(reverse("cases:list"), {"kind": "hazard"}).content.decode()


def test_list_pages_by_keyset(cast, units, django_assert_max_num_queries):
    for i in range(35):
        record(cast, title=f"事件{i:02d}")
    client = web(cast.city_admin)
    client.get(reverse("cases:list"))  # warm the session
    # user (1), grants (1), memberships (1), the total capped at 1,001 rows (1), the page (1), the
    # header's unread inbox count (1); the session comes from the cache
    with django_assert_max_num_queries(6):
        first = client.get(reverse("cases:list"))
    assert first.context["next_query"]
    second = client.get(reverse("cases:list") + "?" + first.context["next_query"])
    assert len(first.context["cases"]) == 30 and len(second.context["cases"]) == 5
    assert not {c["id"] for c in first.context["cases"]} & {c["id"] for c in second.context["cases"]}


def test_case_page_out_of_scope_is_404(cast, units, case_a1):
    assert web(cast.township_b_staff).get(reverse("cases:detail", args=[case_a1.pk])).status_code == 404
    assert web(cast.other_tenant_admin).get(reverse("cases:detail", args=[case_a1.pk])).status_code == 404
    response = web(cast.township_a_staff).get(reverse("cases:detail", args=[case_a1.pk]))
    assert response.status_code == 200
    assert [t.name for t, _f in response.context["action_forms"]] == ["dispatch", "escalate", "merge"]


def test_case_page_query_budget(cast, units, in_hand, django_assert_max_num_queries):
    client = web(cast.township_a_staff)
    client.get(reverse("cases:detail", args=[in_hand.pk]))
    # session, user, view grants, memberships, case, parts, attachments, manage grants, timeline,
    # and the choice lists of the action forms rendered (units, people)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("cases:detail", args=[in_hand.pk])).status_code == 200


def test_record_page(cast, units):
    client = web(cast.village_member)
    assert client.get(reverse("cases:new")).status_code == 200
    data = {
        "node": cast.plot_a1.pk,
        "kind": "hazard",
        "sub_kind": "fire",
        "source": "patrol",
        "severity": "major",
        "title": "楼道堆放杂物",
        "parties": "张三, 房东, 13800000000",
    }
    response = client.post(reverse("cases:new"), data)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert [(p["name"], p["role"], p["phone_masked"]) for p in case.parties] == [
        ("张三", "房东", "138****0000")
    ]
    assert "13800000000" not in str(case.parties)  # encrypted at rest
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "138****0000" in page and "13800000000" not in page


def test_record_page_refuses_node_out_of_scope(cast, units):
    data = {
        "node": cast.plot_b1.pk,
        "kind": "dispute",
        "sub_kind": "other",
        "source": "visit",
        "severity": "general",
        "title": "x",
    }
    response = web(cast.village_member).post(reverse("cases:new"), data)
    assert response.status_code == 400 and not Case.objects.exists()
    assert "node" in response.context["form"].errors
    assert web(cast.township_b_staff).post(reverse("cases:new"), data).status_code == 302


def test_dispatch_from_the_page(cast, units, case_a1):
    url = reverse("cases:act", args=[case_a1.pk, "dispatch"])
    data = {"dispatch-version": 1, "dispatch-responsible_unit": units.police.pk}
    response = web(cast.village_member).post(url, data, follow=True)
    case_a1.refresh_from_db()
    assert case_a1.status == Status.REGISTERED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    web(cast.township_a_staff).post(url, data)
    case_a1.refresh_from_db()
    assert case_a1.status == Status.DISPATCHED


def test_stale_page_form_reports_the_conflict(cast, units, dispatched):
    url = reverse("cases:act", args=[dispatched.pk, "accept"])
    response = web(cast.department_user).post(url, {"accept-version": 1}, follow=True)
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_upload_and_file_view_are_scoped(cast, units, case_a1):
    png = SimpleUploadedFile("a.png", image_bytes("PNG"))
    web(cast.village_member).post(reverse("cases:upload", args=[case_a1.pk]), {"file": png})
    attachment = CaseAttachment.objects.get()
    url = reverse("cases:file", args=[case_a1.pk, attachment.pk])
    assert web(cast.township_b_staff).get(url).status_code == 404
    assert web(cast.department_user).get(url).status_code == 404
    services.case_dispatch(actor=cast.township_a_staff, case=case_a1, responsible_unit=units.police)
    response = web(cast.department_user).get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    # another case's id with this attachment id: 404
    other = record(cast)
    assert web(cast.city_admin).get(reverse("cases:file", args=[other.pk, attachment.pk])).status_code == 404


def test_pages_speak_chinese_by_default(cast, units, case_a1):
    body = web(cast.township_a_staff).get(reverse("cases:detail", args=[case_a1.pk])).content.decode()
    assert "工作痕迹" in body and "派遣" in body and "已登记" in body


def test_duration_filters():
    from cases.templatetags.cases_tags import duration, working_time

    assert duration(0) == "—" and duration(90061) in ("1 d 1 h 1 min", "1 天 1 小时 1 分钟")
    assert working_time(1080 + 90) in (
        "2 working days 1 working hours 30 min",
        "2 个工作日 1 个工作小时 30 分钟",
    )


def _record_data(cast, **extra):
    data = {
        "node": cast.plot_a1.pk,
        "kind": "hazard",
        "sub_kind": "fire",
        "source": "patrol",
        "severity": "general",
        "title": "楼道堆放杂物",
    }
    data.update(extra)
    return data


def test_record_page_with_photos(cast, units):
    photos = [
        SimpleUploadedFile("1.png", image_bytes("PNG")),
        SimpleUploadedFile("2.jpg", image_bytes("JPEG")),
    ]
    response = web(cast.village_member).post(reverse("cases:new"), _record_data(cast, files=photos))
    assert response.status_code == 302
    case = Case.objects.get()
    assert sorted(case.attachments.values_list("name", flat=True)) == ["1.png", "2.jpg"]
    assert list(case.events.values_list("action", flat=True)) == ["record", "attach", "attach"]


def test_record_page_with_a_bad_file_writes_nothing(cast, units):
    files = [SimpleUploadedFile("1.png", image_bytes("PNG")), SimpleUploadedFile("x.exe", b"MZ....")]
    response = web(cast.village_member).post(reverse("cases:new"), _record_data(cast, files=files))
    assert response.status_code == 400 and "files" in response.context["form"].errors
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_dispatch_form_offers_departments_and_the_offices_of_the_cases_grid(cast, units, case_a1):
    response = web(cast.township_a_staff).get(reverse("cases:detail", args=[case_a1.pk]))
    form = {t.name: f for t, f in response.context["action_forms"]}["dispatch"]
    names = set(form.fields["responsible_unit"].queryset.values_list("name", flat=True))
    assert names == {"市公安局", "市司法局", "上望街道综治中心", "九三村综治工作室"}
    case_b = record(cast, node=cast.plot_b1, actor=cast.township_b_staff)
    response = web(cast.city_admin).get(reverse("cases:detail", args=[case_b.pk]))
    form = {t.name: f for t, f in response.context["action_forms"]}["dispatch"]
    assert set(form.fields["responsible_unit"].queryset.values_list("name", flat=True)) == {
        "市公安局",
        "市司法局",
    }


def test_more_rows_come_as_an_htmx_fragment(cast, units):
    for i in range(31):
        record(cast, title=f"事件{i:02d}")
    client = web(cast.city_admin)
    first = client.get(reverse("cases:list"))
    fragment = client.get(reverse("cases:list") + "?" + first.context["next_query"], HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body and body.count("<tr>") == 1


def test_dispatch_page_with_deadline_and_assisting_units(cast, units, case_a1):
    url = reverse("cases:act", args=[case_a1.pk, "dispatch"])
    data = {
        "dispatch-version": 1,
        "dispatch-responsible_unit": units.shangwang_office.pk,
        "dispatch-responsible_person": cast.township_a_staff.pk,
        "dispatch-due_at": "2099-12-01T10:00",
        "dispatch-assists": [units.police.pk, units.justice.pk],
        "dispatch-assist_task": "联合执法",
    }
    web(cast.township_a_staff).post(url, data)
    case_a1.refresh_from_db()
    assert case_a1.status == Status.DISPATCHED and case_a1.responsible_person == cast.township_a_staff
    assert case_a1.due_at.year == 2099
    assert set(case_a1.parts.values_list("unit__name", flat=True)) == {"市公安局", "市司法局"}
