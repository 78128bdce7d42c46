"""The residents' satisfaction survey: answered on a phone without signing in, one answer per phone
(the database decides), refused after closing or when the page's form token is forged, too fresh or
too old, or the honeypot is filled, nothing personal stored; an index per node that equals a hand
computation and that the dashboards and the assessment read; scoped pages and API."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from reports import selectors, services
from reports import survey as surveys
from reports.survey_models import Survey, SurveyLink, SurveyResponse, SurveyStatus

pytestmark = pytest.mark.django_db


def today():
    """Read at each use, not once at collection: a run may cross midnight in Asia/Shanghai."""
    return timezone.localdate()


QUESTIONS = [
    {"text": "您觉得您所在的村（社区）治安状况怎么样？", "kind": "safety"},
    {"text": "您对本地平安建设工作满意吗？", "kind": "satisfaction"},
]


@pytest.fixture
def open_survey(cast) -> Survey:
    item = surveys.survey_create(
        actor=cast.city_admin,
        tenant=cast.ruian,
        title="第四季度群众安全感满意度测评",
        period_start=today(),
        period_end=today() + dt.timedelta(days=14),
        questions=QUESTIONS,
    )
    return surveys.survey_open(actor=cast.city_admin, survey=item)


def link_of(item: Survey, cell) -> SurveyLink:
    return SurveyLink.objects.select_related("survey").get(survey=item, node=cell)


def url_of(link: SurveyLink) -> str:
    return f"/s/{link.token}/"


def post_answer(client: Client, link: SurveyLink, values=(5, 4), *, age: int = 10, **extra):
    """Open the page (the phone gets its cookie), then submit as a person would `age` seconds later."""
    if surveys.DEVICE_COOKIE not in client.cookies:
        client.get(url_of(link))
    questions = surveys.questions_of(link.survey)
    data = {f"q{q.pk}": str(v) for q, v in zip(questions, values, strict=True)}
    data["form"] = surveys.form_token(link, now=time.time() - age)
    data[surveys.HONEYPOT] = ""
    data.update(extra)
    return client.post(url_of(link), data)


def submit(link: SurveyLink, values, device: str) -> SurveyResponse:
    """An answer through the use case, its form made a minute earlier."""
    questions = surveys.questions_of(link.survey)
    return surveys.response_submit(
        link=link,
        device=device,
        form=surveys.form_token(link, now=time.time() - 60),
        honeypot="",
        answers={f"q{q.pk}": str(v) for q, v in zip(questions, values, strict=True)},
        address=None,
    )


# --- answering -----------------------------------------------------------------------------------


def test_resident_answers_on_a_phone_without_signing_in_and_nothing_personal_is_kept(cast, open_survey):
    link = link_of(open_survey, cast.cell_a1)
    phone = Client(REMOTE_ADDR="10.1.2.3")
    page = phone.get(url_of(link))
    assert page.status_code == 200
    html = page.content.decode()
    assert "九三村" in html and "治安状况" in html
    assert "<script" not in html and "style=" not in html  # strict CSP: nothing inline
    cookie = phone.cookies[surveys.DEVICE_COOKIE]
    assert cookie["httponly"] and len(cookie.value) >= 40

    response = post_answer(phone, link, (5, 4))
    assert response.status_code == 200 and "感谢" in response.content.decode()
    row = SurveyResponse.objects.get()
    assert (row.survey_id, row.cell_id, row.township_id, row.answered_on) == (
        open_survey.pk, cast.cell_a1.pk, cast.township_a.pk, today()
    )  # fmt: skip
    assert row.points == 87.5  # (5-1)x25 and (4-1)x25, averaged
    # No name, phone, address, user, time of day or network address: only these columns.
    assert {f.attname for f in SurveyResponse._meta.concrete_fields} == {
        "id", "tenant_id", "city_id", "township_id", "cell_id", "plot_id", "survey_id", "answered_on",
        "answers", "points", "device_hash",
    }  # fmt: skip
    stored = " ".join(str(v) for v in SurveyResponse.objects.values().get().values())
    assert "10.1.2.3" not in stored and cookie.value not in stored
    assert row.device_hash == surveys.device_hash(open_survey.pk, cookie.value) != cookie.value


def test_second_answer_from_the_same_phone_is_refused_and_nothing_written(cast, open_survey):
    link = link_of(open_survey, cast.cell_a1)
    phone = Client()
    assert post_answer(phone, link).status_code == 200
    again = post_answer(phone, link, (1, 1))
    assert again.status_code == 409
    assert "这部手机已经参加过本次测评" in again.content.decode()
    assert SurveyResponse.objects.count() == 1 and SurveyResponse.objects.get().points == 87.5
    # Another phone answers.
    assert post_answer(Client(), link, (1, 1)).status_code == 200
    assert SurveyResponse.objects.count() == 2


def test_the_database_refuses_a_second_answer_whatever_the_check(cast, open_survey):
    """The guard is the unique constraint, not a check before the write."""
    link = link_of(open_survey, cast.cell_a1)
    first = submit(link, (3, 3), "phone-1" * 6)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(
            survey=open_survey, tenant_id=first.tenant_id, city_id=first.city_id, answered_on=today(),
            answers={}, points=50, device_hash=first.device_hash,
        )  # fmt: skip
    with pytest.raises(surveys.SurveyRefused) as refused:
        submit(link_of(open_survey, cast.cell_a2), (3, 3), "phone-1" * 6)  # another cell, same phone
    assert refused.value.status == 409
    assert SurveyResponse.objects.count() == 1


def test_the_same_phone_answers_another_survey_under_another_hash(cast, open_survey):
    other = surveys.survey_create(
        actor=cast.city_admin, tenant=cast.ruian, title="另一次测评", period_start=today(), period_end=today(),
        questions=QUESTIONS,
    )  # fmt: skip
    other = surveys.survey_open(actor=cast.city_admin, survey=other)
    a = submit(link_of(open_survey, cast.cell_a1), (3, 3), "phone-1" * 6)
    b = submit(link_of(other, cast.cell_a1), (3, 3), "phone-1" * 6)
    assert a.device_hash != b.device_hash  # one phone's answers cannot be linked across surveys


def test_answer_after_the_survey_closed_is_refused_and_nothing_written(cast, open_survey):
    link = link_of(open_survey, cast.cell_a1)
    phone = Client()
    phone.get(url_of(link))
    surveys.survey_close(actor=cast.city_admin, survey=open_survey)
    response = post_answer(phone, link)
    assert response.status_code == 410
    assert "本次测评已结束" in response.content.decode()
    assert phone.get(url_of(link)).status_code == 410
    assert not SurveyResponse.objects.exists()


def test_answer_after_the_period_ended_is_refused(cast, open_survey):
    Survey.objects.filter(pk=open_survey.pk).update(
        period_start=today() - dt.timedelta(days=30), period_end=today() - dt.timedelta(days=1)
    )
    response = post_answer(Client(), link_of(open_survey, cast.cell_a1))
    assert response.status_code == 410 and not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("too fast", "请稍候"),
        ("forged", "问卷页面"),
        ("another link", "问卷页面"),
        ("expired", "停留时间过长"),
        ("honeypot", "问卷页面"),
        ("unanswered", "请回答每一个问题"),
    ],
)
def test_automated_or_broken_answers_are_refused_and_nothing_written(cast, open_survey, case, message):
    link = link_of(open_survey, cast.cell_a1)
    phone = Client()
    extra: dict = {}
    age = 10
    if case == "too fast":
        age = 0
    elif case == "forged":
        extra["form"] = surveys.form_token(link).rsplit(":", 1)[0] + ":forged"
    elif case == "another link":
        extra["form"] = surveys.form_token(link_of(open_survey, cast.cell_a2), now=time.time() - 10)
    elif case == "expired":
        age = surveys.FORM_MAX_SECONDS + 60
    elif case == "honeypot":
        extra[surveys.HONEYPOT] = "http://spam.example"
    elif case == "unanswered":
        extra[f"q{surveys.questions_of(open_survey)[1].pk}"] = ""
    response = post_answer(phone, link, age=age, **extra)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SurveyResponse.objects.exists()
    # The page came back ready to try again: the same phone, a fresh form, a moment later.
    assert post_answer(phone, link).status_code == 200


def test_a_phone_without_the_cookie_is_asked_to_allow_it(cast, open_survey):
    link = link_of(open_survey, cast.cell_a1)
    phone = Client()
    phone.get(url_of(link))
    phone.cookies.pop(surveys.DEVICE_COOKIE)
    questions = surveys.questions_of(open_survey)
    data = {f"q{q.pk}": "4" for q in questions}
    data["form"] = surveys.form_token(link, now=time.time() - 10)
    response = phone.post(url_of(link), data)
    assert response.status_code == 400 and "Cookie" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_many_answers_from_one_address_are_refused_for_a_while(cast, open_survey, settings):
    settings.SURVEY_ANSWERS_PER_ADDRESS = 2
    link = link_of(open_survey, cast.cell_a1)
    assert post_answer(Client(REMOTE_ADDR="10.9.9.9"), link).status_code == 200
    assert post_answer(Client(REMOTE_ADDR="10.9.9.9"), link).status_code == 200
    third = post_answer(Client(REMOTE_ADDR="10.9.9.9"), link)
    assert third.status_code == 429 and "稍后再试" in third.content.decode()
    assert post_answer(Client(REMOTE_ADDR="10.9.9.10"), link).status_code == 200
    assert SurveyResponse.objects.count() == 3


def test_unknown_token_is_404(cast, open_survey):
    assert Client().get("/s/not-a-token/").status_code == 404


def test_a_draft_survey_has_no_links_yet(cast):
    item = surveys.survey_create(
        actor=cast.city_admin, tenant=cast.ruian, title="草稿", period_start=today(), period_end=today(),
        questions=QUESTIONS,
    )  # fmt: skip
    assert item.status == SurveyStatus.DRAFT and not SurveyLink.objects.filter(survey=item).exists()
    opened = surveys.survey_open(actor=cast.city_admin, survey=item)
    # Every cell of the city, none of another city's; opening again keeps the printed links.
    cells = {cast.cell_a1.pk, cast.cell_a2.pk, cast.cell_b1.pk}
    assert set(SurveyLink.objects.filter(survey=item).values_list("node_id", flat=True)) == cells
    tokens = set(SurveyLink.objects.filter(survey=item).values_list("token", flat=True))
    surveys.survey_close(actor=cast.city_admin, survey=opened)
    surveys.survey_open(actor=cast.city_admin, survey=opened)
    assert set(SurveyLink.objects.filter(survey=item).values_list("token", flat=True)) == tokens
    assert all(len(t) >= 32 for t in tokens)


# --- the index -----------------------------------------------------------------------------------


@pytest.fixture
def answered(cast, open_survey) -> dict:
    """cell_a1: 10 answers, cell_a2: 3 (under the minimum), cell_b1: 10; the hand computation."""
    a1 = [(5, 5)] * 4 + [(4, 4)] * 3 + [(3, 2)] * 2 + [(1, 2)]
    a2 = [(5, 4), (2, 2), (3, 3)]
    b1 = [(2, 2)] * 10
    n = 0
    for cell, answers in ((cast.cell_a1, a1), (cast.cell_a2, a2), (cast.cell_b1, b1)):
        link = link_of(open_survey, cell)
        for values in answers:
            n += 1
            submit(link, values, f"device-{n:04d}-" + "x" * 40)

    def points(values):  # (v - 1) x 25, averaged over the questions
        return sum((v - 1) * 25 for v in values) / len(values)

    def index(rows):
        return round(sum(points(v) for v in rows) / len(rows), 1)

    return {"a1": index(a1), "a2": index(a2), "township_a": index(a1 + a2), "b1": index(b1)}


def test_index_per_child_equals_the_hand_computation(cast, open_survey, answered):
    # cell_a1 by hand: 4x100 + 3x75 + 2x37.5 + 1x12.5 = 712.5 over 10 answers = 71.25 -> 71.2
    assert answered["a1"] == 71.2
    table = surveys.index_by_child(cast.city_admin, open_survey, cast.township_a)
    by_cell = {node.pk: sums for node, sums in table.children}
    assert (by_cell[cast.cell_a1.pk].responses, by_cell[cast.cell_a1.pk].index) == (10, answered["a1"])
    assert by_cell[cast.cell_a2.pk].responses == 3
    assert by_cell[cast.cell_a2.pk].index is None and by_cell[cast.cell_a2.pk].insufficient
    assert (table.total.responses, table.total.index) == (13, answered["township_a"])
    city = surveys.index_by_child(cast.city_admin, open_survey, cast.city)
    assert [(n.pk, s.index) for n, s in city.children] == [
        (cast.township_a.pk, answered["township_a"]), (cast.township_b.pk, answered["b1"])
    ]  # fmt: skip


def test_township_staff_sees_only_its_own_cells_results(cast, open_survey, answered):
    city = surveys.index_by_child(cast.township_a_staff, open_survey, cast.city)
    assert city.total.responses == 13  # township_b's answers are not counted for them


def test_dashboard_reads_the_survey_index(cast, open_survey, answered, client):
    dash = selectors.dashboard(actor=cast.city_admin, node=cast.township_a, month=today().replace(day=1))
    assert dash.outcomes["survey_index"].value == answered["township_a"]
    assert dash.outcomes["survey_index"].rated == 13
    rows = {node.pk: row for node, row in dash.children}
    assert rows[cast.cell_a1.pk].survey_index == answered["a1"]
    assert rows[cast.cell_a2.pk].survey_index is None  # under the minimum
    client.force_login(cast.township_a_staff)
    body = client.get(f"/api/v1/reports/dashboard/?node={cast.township_a.pk}").json()
    assert body["outcomes"]["survey_index"]["value"] == answered["township_a"]
    assert [c["survey_index"] for c in body["children"]] == [answered["a1"], None]
    page = client.get(f"/reports/{cast.township_a.pk}/").content.decode()
    assert f'id="fig-survey_index">{answered["township_a"]}<' in page


def test_assessment_scores_the_survey_index(cast, open_survey, answered):
    scheme = services.scheme_create(
        actor=cast.city_admin, tenant=cast.ruian, name="测评考核", period_start=today().replace(day=1),
        period_end=today(), indicators=[{"name": "群众安全感满意度", "source": "survey_index", "weight": 100}],
    )  # fmt: skip
    rnd = services.round_open(actor=cast.city_admin, scheme=scheme, name="第一轮")
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    lines = {card.unit_id: card.lines.get() for card in rnd.scorecards.all()}
    a = lines[cast.township_a.pk]
    assert (a.value, a.basis, a.insufficient, a.points) == (
        answered["township_a"],
        13,
        False,
        answered["township_a"],
    )
    assert lines[cast.township_b.pk].value == answered["b1"]


def test_assessment_marks_a_township_with_too_few_answers_insufficient(cast, open_survey):
    submit(link_of(open_survey, cast.cell_a1), (5, 5), "only-one-" * 5)
    scheme = services.scheme_create(
        actor=cast.city_admin, tenant=cast.ruian, name="测评考核", period_start=today().replace(day=1),
        period_end=today(), indicators=[{"source": "survey_index", "weight": 100}],
    )  # fmt: skip
    rnd = services.round_open(actor=cast.city_admin, scheme=scheme, name="第一轮")
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    line = rnd.scorecards.get(unit=cast.township_a).lines.get()
    assert (line.value, line.basis, line.insufficient, line.points) == (None, 1, True, 0.0)


# --- the city's pages and API, scoped ---------------------------------------------------------------


def test_city_admin_sets_opens_and_closes_a_survey_through_the_api(cast, client):
    client.force_login(cast.city_admin)
    body = {"title": "测评", "period_start": str(today()), "period_end": str(today()), "questions": QUESTIONS}
    created = client.post("/api/v1/reports/surveys/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post(f"/api/v1/reports/surveys/{pk}/open/").json()["status"] == "open"
    links = client.get(f"/api/v1/reports/surveys/{pk}/links/?node={cast.township_a.pk}").json()
    assert [row["cell"] for row in links] == [cast.cell_a1.pk, cast.cell_a2.pk]
    assert links[0]["url"].endswith(f"/s/{SurveyLink.objects.get(survey_id=pk, node=cast.cell_a1).token}/")
    assert client.post(f"/api/v1/reports/surveys/{pk}/close/").json()["status"] == "closed"
    again = client.post(f"/api/v1/reports/surveys/{pk}/close/")
    assert again.status_code == 400 and "只有进行中的测评才能结束" in again.content.decode()


def test_a_survey_without_questions_is_refused_in_chinese(cast, client):
    client.force_login(cast.city_admin)
    body = {"title": "测评", "period_start": str(today()), "period_end": str(today()), "questions": []}
    response = client.post("/api/v1/reports/surveys/", body, content_type="application/json")
    assert response.status_code == 400 and "请至少设置一个问题" in response.content.decode()
    assert not Survey.objects.exists()


def test_township_staff_cannot_set_or_open_a_survey(cast, client, open_survey):
    client.force_login(cast.township_a_staff)
    body = {
        "title": "测评2",
        "period_start": str(today()),
        "period_end": str(today()),
        "questions": QUESTIONS,
    }
    assert client.post("/api/v1/reports/surveys/", body, content_type="application/json").status_code == 403
    assert client.post(f"/api/v1/reports/surveys/{open_survey.pk}/close/").status_code == 403
    assert Survey.objects.count() == 1 and Survey.objects.get().status == SurveyStatus.OPEN
    client.force_login(cast.city_admin)
    assert client.post(f"/api/v1/reports/surveys/{open_survey.pk}/close/").status_code == 200


@pytest.mark.parametrize(
    "who", ["township_b_staff", "village_member", "other_tenant_admin", "department_user"]
)
def test_outsiders_cannot_see_township_a_results_or_links(cast, client, open_survey, answered, who):
    client.force_login(getattr(cast, who))
    node = f"?node={cast.township_a.pk}"
    assert client.get(f"/api/v1/reports/surveys/{open_survey.pk}/{node}").status_code == 404
    assert client.get(f"/api/v1/reports/surveys/{open_survey.pk}/links/{node}").status_code == 404
    assert client.get(f"/reports/surveys/{open_survey.pk}/{node}").status_code == 404
    assert client.get(f"/reports/surveys/{open_survey.pk}/codes/{cast.township_a.pk}/").status_code == 404
    assert client.get(f"/reports/surveys/{open_survey.pk}/export.xlsx{node}").status_code == 404
    client.force_login(cast.township_a_staff)
    body = client.get(f"/api/v1/reports/surveys/{open_survey.pk}/{node}").json()
    assert [c["id"] for c in body["children"]] == [cast.cell_a1.pk, cast.cell_a2.pk]
    assert client.get(f"/reports/surveys/{open_survey.pk}/codes/{cast.township_a.pk}/").status_code == 200


def test_other_city_sees_no_survey(cast, client, open_survey):
    client.force_login(cast.other_tenant_admin)
    assert client.get("/api/v1/reports/surveys/").json() == []
    assert client.get(f"/api/v1/reports/surveys/{open_survey.pk}/").status_code == 404


def test_village_member_sees_its_own_cells_link_only(cast, client, open_survey):
    client.force_login(cast.village_member)
    links = client.get(f"/api/v1/reports/surveys/{open_survey.pk}/links/").json()
    assert [row["cell"] for row in links] == [cast.cell_a1.pk]


def test_printable_codes_page_lists_each_cell_with_its_qr_code(cast, client, open_survey):
    client.force_login(cast.township_a_staff)
    page = client.get(f"/reports/surveys/{open_survey.pk}/codes/{cast.township_a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") == 2 and "九三村" in html and "上望社区" in html
    assert link_of(open_survey, cast.cell_a1).token in html
    assert "<script>" not in html and "style=" not in html


def test_survey_pages_show_the_index_and_export_it(cast, client, open_survey, answered):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(cast.city_admin)
    page = client.get(f"/reports/surveys/{open_survey.pk}/?node={cast.township_a.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="survey-total">{answered["township_a"]}<' in html and "数据不足" in html
    listing = client.get("/reports/surveys/")
    assert listing.status_code == 200 and open_survey.title in listing.content.decode()
    book = client.get(f"/reports/surveys/{open_survey.pk}/export.xlsx?node={cast.township_a.pk}")
    rows = list(load_workbook(BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[2] == ("九三村", 10, answered["a1"], None)
    assert rows[-1][:3] == ("上望街道", 13, answered["township_a"])


def test_city_admin_sets_a_survey_on_the_page(cast, client):
    client.force_login(cast.city_admin)
    form = {"title": "页面测评", "period_start": str(today()), "period_end": str(today())}
    form.update({"q1_text": "治安状况怎么样？", "q1_kind": "safety"})
    form.update({f"q{i}_kind": "satisfaction" for i in range(2, 6)})
    response = client.post("/reports/surveys/", form)
    item = Survey.objects.get(title="页面测评")
    assert response.status_code == 302 and item.questions.count() == 1
    assert client.post(f"/reports/surveys/{item.pk}/status/", {"action": "open"}).status_code == 302
    item.refresh_from_db()
    assert item.status == SurveyStatus.OPEN


def test_survey_lists_take_the_same_queries_whatever_their_length(
    cast, client, open_survey, django_assert_max_num_queries
):
    client.force_login(cast.city_admin)
    client.get("/api/v1/reports/surveys/")  # warm the session and the grants
    # 1 user, 2 the surveys with their question counts (the session comes from the cache).
    with django_assert_max_num_queries(2):
        assert len(client.get("/api/v1/reports/surveys/").json()) == 1
    for i in range(5):
        surveys.survey_create(
            actor=cast.city_admin, tenant=cast.ruian, title=f"测评{i}", period_start=today(), period_end=today(),
            questions=QUESTIONS,
        )  # fmt: skip
    with django_assert_max_num_queries(2):
        assert len(client.get("/api/v1/reports/surveys/").json()) == 6
    # 1 user, 2 the survey, 3 the node in scope, 4 the children in scope, 5 the answers grouped by
    # child, 6 the questions.
    with django_assert_max_num_queries(6):
        client.get(f"/api/v1/reports/surveys/{open_survey.pk}/?node={cast.city.pk}")
    # 1 user, 2 the survey, 3 the node in scope, 4 the links with their cells.
    with django_assert_max_num_queries(4):
        client.get(f"/api/v1/reports/surveys/{open_survey.pk}/links/?node={cast.city.pk}")


def test_index_by_child_is_two_queries_whatever_the_number_of_children(
    cast, open_survey, answered, django_assert_num_queries
):
    surveys.index_by_child(cast.city_admin, open_survey, cast.township_a)  # grants read once
    # 1 the children in scope, 2 the answers grouped by the children's column.
    with django_assert_num_queries(2):
        surveys.index_by_child(cast.city_admin, open_survey, cast.township_a)


def test_demo_survey_is_open_with_answers_and_a_rerun_adds_none(cast):
    from reports import demo

    added = demo.seed_survey(cast.ruian, actor=cast.city_admin)
    assert added == SurveyResponse.objects.count() > 0
    item = Survey.objects.get(tenant=cast.ruian)
    assert item.status == SurveyStatus.OPEN and surveys.is_open(item)
    assert SurveyResponse.objects.filter(tenant=cast.pingyang).count() == 0
    assert demo.seed_survey(cast.ruian, actor=cast.city_admin) == 0
    table = surveys.index_by_child(cast.city_admin, item, cast.city)
    assert table.total.responses == added and 0 <= (table.total.index or 0) <= 100
