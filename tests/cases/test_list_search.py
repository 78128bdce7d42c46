"""The case list as people use it: keyword search, its total, .xlsx export, the handling sheet, and
bad input (a huge keyword, SQL or HTML) answered with a message, never a 500."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from cases import selectors, services
from cases.models import Case
from tests.cases.conftest import record

PHONE = "13812345678"


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(response) -> set[int]:
    return {c["id"] for c in response.context["cases"]}


@pytest.fixture
def three(cast, units):
    a = record(
        cast,
        title="宅基地边界纠纷",
        description="两户因围墙位置发生争执",
        parties=[{"name": "潘某某", "role": "当事人", "phone": PHONE}],
    )
    b = record(cast, title="楼道堆放杂物", kind="hazard", sub_kind="fire", description="消防通道堵塞")
    c = record(cast, node=cast.plot_b1, actor=cast.township_b_staff, title="塘下宅基地纠纷")
    return a, b, c


def test_keyword_matches_number_title_description_and_party_names(cast, three):
    a, b, _c = three
    client = web(cast.township_a_staff)
    url = reverse("cases:list")
    assert listed(client.get(url, {"q": "边界"})) == {a.pk}
    assert listed(client.get(url, {"q": "消防通道"})) == {b.pk}
    assert listed(client.get(url, {"q": "潘某某"})) == {a.pk}
    assert listed(client.get(url, {"q": a.number})) == {a.pk}
    # Another township's case with the same words stays out of scope.
    assert listed(client.get(url, {"q": "宅基地"})) == {a.pk}


def test_phones_are_never_searched(cast, three):
    client = web(cast.township_a_staff)
    for text in (PHONE, PHONE[-4:], "138****5678"):
        assert listed(client.get(reverse("cases:list"), {"q": text})) == set()
    assert PHONE not in Case.objects.get(pk=three[0].pk).party_names


def test_total_counts_what_the_filter_matched(cast, three):
    response = web(cast.township_a_staff).get(reverse("cases:list"), {"q": "纠纷"})
    assert response.context["total"] == selectors.Total(1, False)
    assert "1 件" in response.content.decode() or "1 case" in response.content.decode()


def test_total_above_the_threshold_is_an_estimate_labelled_as_such(cast, three, monkeypatch, is_postgres):
    monkeypatch.setattr(selectors, "COUNT_EXACT_UP_TO", 1)
    response = web(cast.township_a_staff).get(reverse("cases:list"))
    total = response.context["total"]
    if is_postgres:
        assert total.estimated and total.count >= 2
        assert f"约 {total.count}" in response.content.decode()
    else:  # the embedded database counts exactly
        assert total == selectors.Total(2, False)


@pytest.mark.parametrize(
    "keyword",
    ["'; DROP TABLE cases_case; --", "1 OR 1=1", "%", "_", "<script>alert(1)</script>", "\\"],
)
def test_sql_and_html_in_the_keyword_are_just_text(cast, three, keyword):
    response = web(cast.township_a_staff).get(reverse("cases:list"), {"q": keyword})
    assert response.status_code == 200
    assert listed(response) == set()
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert Case.objects.count() == 3


def test_a_ten_thousand_character_keyword_is_refused_with_a_message(cast, three):
    response = web(cast.township_a_staff).get(reverse("cases:list"), {"q": "纠" * 10_000})
    assert response.status_code == 400
    assert listed(response) == set()
    assert "100" in response.content.decode()  # 确保该值不超过 100 个字符
    assert Case.objects.count() == 3


def test_the_title_links_to_the_case(cast, three):
    html = web(cast.township_a_staff).get(reverse("cases:list")).content.decode()
    assert f'<a href="{reverse("cases:detail", args=[three[0].pk])}">宅基地边界纠纷</a>' in html


def test_export_carries_the_filter_and_no_phone(cast, three):
    response = web(cast.township_a_staff).get(reverse("cases:list"), {"q": "纠纷", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == three[0].number and "潘某某" in rows[1]
    flat = " ".join(str(v) for row in rows for v in row if v is not None)
    assert PHONE not in flat and PHONE[-4:] not in flat


def test_export_above_the_cap_says_so_and_sends_no_file(cast, three, monkeypatch):
    monkeypatch.setattr(selectors, "EXPORT_MAX", 1)
    client = web(cast.township_a_staff)
    response = client.get(reverse("cases:list"), {"export": "xlsx"}, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "缩小" in response.content.decode()


def test_handling_sheet_for_entitled_users_only(cast, three):
    a = three[0]
    services.case_dispatch(actor=cast.township_a_staff, case=a, responsible_unit=a_unit(cast))
    url = reverse("cases:sheet", args=[a.pk])
    assert web(cast.township_b_staff).get(url).status_code == 404
    response = web(cast.township_a_staff).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert a.number in html and "潘某某" in html and "138****5678" in html and PHONE not in html
    assert "@media print" not in html  # print rules live in a static stylesheet
    assert "sheet.css" in html


def a_unit(cast):
    from teams.models import Unit

    return Unit.objects.get(tenant=cast.ruian, code="dept-police")


def test_list_query_budget_with_a_keyword(cast, three, django_assert_max_num_queries):
    client = web(cast.township_a_staff)
    client.get(reverse("cases:list"))
    # user, view grants, the person's units (offices outside the granted grid), the capped total, the
    # page's rows, the header's unread inbox count: 6 (an assisting unit adds its case ids); the
    # session comes from the cache.
    with django_assert_max_num_queries(7):
        client.get(reverse("cases:list"), {"q": "纠纷"})
