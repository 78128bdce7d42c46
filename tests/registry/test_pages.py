"""Registry pages: scope (refusal, then the entitled user), no-store, forms that refuse bad numbers."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from grids.registry.models import Household, ImportJob, PersonalDataAccess, Resident
from grids.registry.synthetic import mobile, resident_id

from ..conftest import PASSWORD
from .conftest import resident_row, upload, xlsx


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_every_registry_page_is_scoped_and_sign_in_only():
    from django.urls import get_resolver

    from grids.registry import urls

    for pattern in urls.urlpatterns:
        assert getattr(pattern.callback, "scoped", False), pattern.name
    assert get_resolver().resolve("/registry/").url_name == "index"
    response = Client().get("/registry/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_index_lists_plots_in_scope_with_household_counts(cast, people, django_assert_max_num_queries):
    client = login(cast.township_a_staff)
    # user, grants, plot page, household counts of the page's plots (no COUNT of the plots), the
    # header's unread inbox count; the session comes from the cache
    with django_assert_max_num_queries(5):
        response = client.get("/registry/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "九三村第一片" in body and "林北村第一片" not in body
    assert "no-store" in response["Cache-Control"]


def test_plot_page_refuses_another_township_then_shows_it_to_its_own_staff(
    cast, people, django_assert_max_num_queries
):
    url = reverse("registry:plot", args=[cast.plot_a1.pk])
    assert login(cast.township_b_staff).get(url).status_code == 404
    client = login(cast.township_a_staff)
    # user, grants (view), plot, households page, count (capped), grants (manage), unread inbox count;
    # the session comes from the cache
    with django_assert_max_num_queries(7):
        response = client.get(url)
    assert response.status_code == 200
    assert "JS-0001" in response.content.decode()


def test_household_page_shows_residents_masked_and_history(cast, people):
    url = reverse("registry:household", args=[people.h1.pk])
    assert login(cast.other_tenant_admin).get(url).status_code == 404
    response = login(cast.village_member).get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "林阿婆" in body and people.r1.id_number_masked in body
    assert resident_id(1001) not in body and mobile(1001) not in body
    assert "独居老人" in body or "elderly living alone" in body
    assert "no-store" in response["Cache-Control"]


def test_add_resident_page_refuses_a_bad_check_digit_and_writes_nothing(cast, people):
    url = reverse("registry:resident_new", args=[people.h2.pk])
    good = resident_id(77)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert login(cast.township_b_staff).post(url, {"name": "x", "id_number": good}).status_code == 404
    client = login(cast.village_member)
    form = {
        "name": "陈小红",
        "id_type": "resident_id",
        "id_number": bad,
        "phone": "",
        "population_type": "migrant",
        "relation": "child",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()  # the typed value comes back so a typo can be fixed
    assert not Resident.objects.filter(name="陈小红").exists()
    response = client.post(url, {**form, "id_number": good, "phone": "12345"})
    assert response.status_code == 200 and not Resident.objects.filter(name="陈小红").exists()
    response = client.post(url, {**form, "id_number": good, "phone": mobile(77)})
    assert response.status_code == 302
    resident = Resident.objects.get(name="陈小红")
    assert resident.population_type == "migrant" and resident.household == people.h2


def test_reveal_page_needs_the_right_then_logs_and_is_not_cached(cast, people):
    url = reverse("registry:resident_reveal", args=[people.r1.pk])
    refused = login(cast.township_a_staff).post(url, {"reason": "核对身份信息"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and resident_id(1001) not in refused.content.decode()
    assert PersonalDataAccess.objects.count() == 0
    assert login(cast.city_admin).get(url).status_code == 405
    response = login(cast.city_admin).post(url, {"reason": "核对身份信息"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert resident_id(1001) in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert PersonalDataAccess.objects.get().reason == "核对身份信息"


def test_search_page_posts_numbers_and_finds_within_scope(cast, people):
    url = reverse("registry:search")
    outside = login(cast.township_a_staff).post(url, {"q": resident_id(1003)})
    assert "张小芳" not in outside.content.decode()
    inside = login(cast.township_b_staff).post(url, {"q": resident_id(1003)})
    assert "张小芳" in inside.content.decode()
    assert resident_id(1003) not in inside.content.decode().replace(f'value="{resident_id(1003)}"', "")


def test_household_create_and_move_pages(cast):
    client = login(cast.township_a_staff)
    response = client.post(
        reverse("registry:household_new"), {"plot": cast.plot_b1.pk, "number": "X-1", "address": "a"}
    )
    assert response.status_code == 200 and not Household.objects.exists()
    response = client.post(
        reverse("registry:household_new"),
        {"plot": cast.plot_a1.pk, "number": "X-1", "address": "a", "tags": ["1", "8"]},
    )
    assert response.status_code == 302
    household = Household.objects.get()
    assert household.tags == 9
    response = client.post(reverse("registry:household_move", args=[household.pk]), {"plot": cast.plot_a3.pk})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.cell_id == cast.cell_a2.pk


def test_import_page_refuses_non_xlsx_and_wrong_headers_with_a_clear_answer(cast):
    client = login(cast.township_a_staff)
    url = reverse("registry:imports")
    response = client.post(url, {"kind": "residents", "file": upload(b"name,id\n", "people.csv")})
    assert response.status_code == 200 and ".xlsx" in response.content.decode()
    response = client.post(
        url, {"kind": "residents", "file": upload(xlsx([["a", "b"]], header=["姓名", "电话"]))}
    )
    assert response.status_code == 200 and "片格编码" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_import_page_runs_and_reports_progress_and_refused_rows(cast, django_capture_on_commit_callbacks):
    client = login(cast.township_a_staff)
    rows = [resident_row(cast.plot_a1.code, "JS-1", 1), resident_row(cast.plot_b1.code, "LB-1", 2)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:imports"), {"kind": "residents", "file": upload(xlsx(rows))})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    progress = client.get(reverse("registry:import", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and "hx-trigger" not in progress.content.decode()
    job.refresh_from_db()
    assert (job.added, job.refused) == (1, 1)
    assert (
        login(cast.township_b_staff).get(reverse("registry:import_refused", args=[job.pk])).status_code == 404
    )
    refused = client.get(reverse("registry:import_refused", args=[job.pk]))
    assert refused.status_code == 200


def test_template_download_has_chinese_headers_and_the_users_plots(cast):
    from io import BytesIO

    from openpyxl import load_workbook

    response = login(cast.village_member).get(reverse("registry:import_template", args=["residents"]))
    workbook = load_workbook(
        BytesIO(b"".join(response.streaming_content if response.streaming else [response.content]))
    )
    assert [c.value for c in workbook["数据"][1]][:2] == ["片格编码*", "户号*"]
    plot_codes = [row[0] for row in workbook["片格"].iter_rows(min_row=2, values_only=True)]
    assert sorted(plot_codes) == sorted([cast.plot_a1.code, cast.plot_a2.code])


def test_lists_export_with_their_filters(cast, people, django_assert_max_num_queries):
    client = login(cast.city_admin)
    # user, grants, the township named by its name, residents with their household and plot; the
    # session comes from the cache
    with django_assert_max_num_queries(5):
        response = client.get(
            reverse("registry:residents"), {"township": cast.township_b.name, "export": "xlsx"}
        )
    assert response.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == ["张小芳"]
    assert resident_id(1003) not in str(rows)


def test_access_log_page_for_the_city(cast, people):
    login(cast.city_admin).post(
        reverse("registry:resident_reveal", args=[people.r2.pk]), {"reason": "调解纠纷需要"}
    )
    assert (
        "调解纠纷需要" not in login(cast.village_member).get(reverse("registry:access_log")).content.decode()
    )
    assert "调解纠纷需要" in login(cast.city_admin).get(reverse("registry:access_log")).content.decode()


def test_department_user_without_a_grid_grant_sees_no_registry_rows(cast, people):
    client = login(cast.department_user)
    assert "JS-0001" not in client.get(reverse("registry:households")).content.decode()
    assert client.get(reverse("registry:household", args=[people.h1.pk])).status_code == 404
    response = client.post(reverse("registry:imports"), {"kind": "residents", "file": upload(xlsx([["x"]]))})
    assert response.status_code == 200 and not ImportJob.objects.exists()
    assert (
        login(cast.township_a_staff).get(reverse("registry:household", args=[people.h1.pk])).status_code
        == 200
    )


def test_add_unit_page_checks_the_credit_code_and_scope(cast):
    from grids.registry.models import Establishment
    from grids.registry.synthetic import credit_code

    url = reverse("registry:establishment_new")
    form = {"plot": cast.plot_a1.pk, "credit_code": credit_code(7), "name": "九三鞋厂", "kind": "enterprise"}
    assert login(cast.township_b_staff).post(url, form).status_code == 200
    client = login(cast.village_member)
    bad = credit_code(7)[:-1] + ("1" if credit_code(7)[-1] != "1" else "2")
    assert client.post(url, {**form, "credit_code": bad}).status_code == 200
    assert not Establishment.objects.exists()
    assert client.post(url, {**form, "contact_phone": mobile(8)}).status_code == 302
    est = Establishment.objects.get()
    assert est.credit_code == credit_code(7) and est.contact_phone_masked.endswith(mobile(8)[-4:])


def test_edit_move_and_deregister_pages(cast, people):
    from grids.registry import services as svc

    building = svc.building_create(actor=cast.city_admin, plot=cast.plot_a1, code="JS-B1", name="九三1幢")
    svc.dwelling_create(actor=cast.city_admin, building=building, number="201")
    client = login(cast.village_member)
    url = reverse("registry:household_edit", args=[people.h2.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"address": "九三村2号", "building_code": "JS-B1", "room": "999"})
    assert response.status_code == 200  # no such room
    response = client.post(
        url, {"address": "九三村2号新", "building_code": "JS-B1", "room": "201", "tags": ["4"]}
    )
    assert response.status_code == 302
    people.h2.refresh_from_db()
    assert (people.h2.address, people.h2.dwelling.number, people.h2.tags) == ("九三村2号新", "201", 4)

    edit = reverse("registry:resident_edit", args=[people.r2.pk])
    form = {
        "name": "陈大明",
        "id_type": "resident_id",
        "id_number": "",
        "phone": mobile(55),
        "population_type": "registered",
        "relation": "head",
    }
    assert client.post(edit, form).status_code == 302
    people.r2.refresh_from_db()
    assert people.r2.phone_masked.endswith(mobile(55)[-4:]) and people.r2.relation == "head"
    assert people.r2.id_number_masked.endswith(resident_id(1002)[-4:])  # kept

    move = reverse("registry:resident_move", args=[people.r2.pk])
    assert client.post(move, {"household_number": "LB-0001"}).status_code == 200  # Tangxia: not theirs
    assert client.post(move, {"household_number": "JS-0001", "reason": "投靠亲属"}).status_code == 302
    people.r2.refresh_from_db()
    assert people.r2.household == people.h1

    assert (
        login(cast.township_b_staff)
        .post(reverse("registry:resident_deregister", args=[people.r2.pk]), {"reason": "x"})
        .status_code
        == 404
    )
    assert (
        client.post(
            reverse("registry:resident_deregister", args=[people.r2.pk]), {"reason": "迁出本市"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("registry:household_deregister", args=[people.h2.pk]), {"reason": "空户"}
        ).status_code
        == 302
    )
    people.r2.refresh_from_db()
    people.h2.refresh_from_db()
    assert people.r2.status == people.h2.status == "deregistered"
    history = client.get(reverse("registry:resident", args=[people.r2.pk])).content.decode()
    assert "迁出本市" in history and "投靠亲属" in history


def _households(cast, n: int) -> list[str]:
    from grids import scoping

    at = {"tenant_id": cast.ruian.pk, **scoping.ancestor_columns(cast.plot_a1)}
    numbers = [f"KS-{i:04d}" for i in range(n)]
    Household.objects.bulk_create(Household(**at, number=number, address="") for number in numbers)
    return numbers


def test_household_list_pages_by_keyset_and_more_appends_the_next_rows(cast, django_assert_max_num_queries):
    import re

    numbers = _households(cast, 120)
    client = login(cast.township_a_staff)
    # user, grants, page of households with resident counts, count (capped at 1,000), the header's
    # unread inbox count; the session comes from the cache
    with django_assert_max_num_queries(5):
        body = client.get("/registry/households/").content.decode()
    assert '<span class="badge">120</span>' in body
    seen = re.findall(r">(KS-\d{4})<", body)
    while True:
        more = re.search(r'hx-get="\?([^"]+)"', body)
        if more is None:
            break
        assert (
            'hx-select="table.list &gt; tbody &gt; tr"' in body
            or 'hx-select="table.list > tbody > tr"' in body
        )
        assert 'hx-swap="beforeend"' in body and 'hx-select-oob="#pager"' in body
        query = more.group(1).replace("&amp;", "&")
        with django_assert_max_num_queries(6):  # the same queries, however deep the page
            body = client.get("/registry/households/?" + query, HTTP_HX_REQUEST="true").content.decode()
        seen += re.findall(r">(KS-\d{4})<", body)
    assert seen == numbers  # every household once, in number order
    assert client.get("/registry/households/?after=garbage").status_code == 200  # read as the first page
    assert login(cast.township_b_staff).get("/registry/households/").content.decode().count("KS-") == 0


def test_list_counts_are_exact_only_up_to_the_cap(cast):
    from ruian_grid.pagination import Page, capped_count

    _households(cast, 12)
    assert capped_count(Household.objects.all(), cap=20) == 12
    assert capped_count(Household.objects.all(), cap=5) == 6
    assert Page(rows=[], next_query="", count=6, cap=5).count_label == "5+"
    assert Page(rows=[], next_query="", count=5, cap=5).count_label == "5"
