"""Responsibility tracing, cadre performance files, work reports and department scorecards (issue 13,
items 2-4): tracing equals the hand-computed holders and working hours, the file's counts equal its
cases in a fixed number of queries, bad input is refused in Chinese with nothing written, and every
new route refuses the outsiders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services as case_services
from cases import supervision
from cases.models import DeadlineAlert
from reports import files, selectors, services, work_reports
from reports.models import Scorecard, Source, WorkReport, WorkReportStatus
from tests.cases.conftest import record
from tests.reports.test_dashboard import close

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def this_year():
    """Read at each use, not once at collection: a run may cross midnight in Asia/Shanghai."""
    return timezone.localdate().year


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ)  # 2 November 2026 is a Monday


@pytest.fixture
def clock(monkeypatch):
    """The services' clock, set by hand."""
    now = [at(2, 9)]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    return now


# --- responsibility tracing ------------------------------------------------------------------------


def test_tracing_of_dispatch_return_redispatch_close_equals_the_hand_computed_holders(cast, units, clock):
    case = record(cast)  # Monday 09:00, at the dispatching tier
    clock[0] = at(2, 10)
    case_services.case_dispatch(
        actor=cast.township_a_staff, case=case, responsible_unit=units.police,
        responsible_person=cast.department_user,
    )  # fmt: skip
    clock[0] = at(2, 11)
    case_services.case_accept(actor=cast.department_user, case=case)
    clock[0] = at(2, 14)
    case_services.case_return(actor=cast.department_user, case=case, reason="事实不清")
    clock[0] = at(3, 9)  # Tuesday
    case_services.case_dispatch(
        actor=cast.township_a_staff, case=case, responsible_unit=units.police,
        responsible_person=cast.department_user,
    )  # fmt: skip
    clock[0] = at(3, 10)
    case_services.case_accept(actor=cast.department_user, case=case)
    clock[0] = at(4, 15)  # Wednesday
    case_services.case_submit(actor=cast.department_user, case=case, resolution="已调解")
    clock[0] = at(5, 9)  # Thursday
    case_services.case_close(actor=cast.township_a_staff, case=case, satisfaction="satisfied")

    with CaptureQueriesContext(connection) as queries:
        tracing = files.trace(case, now=at(9, 9))
    # 1. the timeline with its actors, 2-3. the city's calendar (exceptions, working hours).
    assert len(queries) == 3
    got = [
        (h.holder, h.unit_id, h.person_id, h.status, h.start, h.end, h.seconds, h.working_minutes)
        for h in tracing.holds
    ]
    police, officer = units.police.pk, cast.department_user.pk
    # Working day 08:30-17:30, no lunch break set: hand-computed.
    assert got == [
        ("tier", None, None, "registered", at(2, 9), at(2, 10), 3600, 60),
        ("unit", police, officer, "dispatched", at(2, 10), at(2, 11), 3600, 60),
        ("unit", police, officer, "in_hand", at(2, 11), at(2, 14), 3 * 3600, 180),
        # Monday 14:00-17:30 and Tuesday 08:30-09:00.
        ("tier", None, None, "registered", at(2, 14), at(3, 9), 19 * 3600, 240),
        ("unit", police, officer, "dispatched", at(3, 9), at(3, 10), 3600, 60),
        # Tuesday 10:00-17:30 and Wednesday 08:30-15:00.
        ("unit", police, officer, "in_hand", at(3, 10), at(4, 15), 29 * 3600, 450 + 390),
        # Awaiting verification: the tier's move. Wednesday 15:00-17:30, Thursday 08:30-09:00.
        ("tier", None, None, "resolved", at(4, 15), at(5, 9), 18 * 3600, 180),
    ]
    assert [h.ended_with for h in tracing.holds] == [
        "dispatch", "accept", "return", "dispatch", "accept", "submit", "close",
    ]  # fmt: skip
    totals = {(t["holder"], t["unit"], t["person"]): t for t in tracing.totals()}
    unit_total = totals[("unit", "市公安局", str(cast.department_user))]
    assert (unit_total["times"], unit_total["working_minutes"]) == (4, 60 + 180 + 60 + 840)


def test_tracing_reads_holders_of_events_written_before_the_ids_by_unit_name(cast, units, clock):
    case = record(cast)
    clock[0] = at(2, 10)
    case_services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police)
    events = list(case.events.order_by("at", "id"))
    for e in events:
        e.data = {k: v for k, v in e.data.items() if k not in ("unit_id", "person_id")}  # as before
    tracing = files.trace(case, now=at(2, 12), events=events)
    assert [(h.holder, h.unit_id, h.end) for h in tracing.holds] == [
        ("tier", None, at(2, 10)),
        ("unit", units.police.pk, None),
    ]
    assert tracing.holds[-1].working_minutes == 120  # still holding: up to now


def test_tracing_api_is_scoped_like_the_case(cast, units, client):
    case = record(cast)
    url = f"/api/v1/reports/cases/{case.pk}/tracing/"
    for outsider in (cast.township_b_staff, cast.department_user, cast.other_tenant_admin):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(cast.township_a_staff)
    body = client.get(url).json()
    assert body["holds"][0]["holder"] == "tier" and body["holds"][0]["end"] is None
    page = client.get(f"/reports/cases/{case.pk}/tracing/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "责任倒查" in page.content.decode()


# --- performance files -----------------------------------------------------------------------------


def _handled(cast, units, n: int) -> list:
    """`n` cases closed by the police officer, the first of them late."""
    out = [close(cast, units, record(cast, title=f"纠纷{i}"), "satisfied") for i in range(n)]
    DeadlineAlert.objects.create(tenant=cast.ruian, case=out[0], deadline_seq=out[0].deadline_seq, level=2)
    return out


def test_the_file_counts_equal_its_cases_in_a_fixed_number_of_queries(cast, units):
    closed = _handled(cast, units, 3)
    still_open = record(cast, title="仍在办理")
    case_services.case_dispatch(
        actor=cast.township_a_staff, case=still_open, responsible_unit=units.police,
        responsible_person=cast.department_user,
    )  # fmt: skip
    supervision.order_issue(actor=cast.city_admin, case=still_open, grade=2, reason="逾期未办")
    other = record(cast, title="别人的案件")  # not the officer's: not in the file
    person = files.cadre_get(cast.city_admin, cast.department_user.pk)

    def measured() -> tuple[files.PerformanceFile, int]:
        with CaptureQueriesContext(connection) as queries:
            f = files.performance_file(cast.city_admin, person, this_year())
        return f, len(queries)

    files.performance_file(cast.city_admin, person, this_year())  # the admin's grants, read once a request
    f, first = measured()
    assert {r.case.pk for r in f.cases} == {c.pk for c in [*closed, still_open]}
    assert other.pk not in {r.case.pk for r in f.cases}
    assert f.counts == {
        "handled": 4, "closed": 3, "on_time": 2, "late": 1, "open": 1, "overdue": 1,
        "yellow_cards": 1, "red_cards": 0,
    }  # fmt: skip
    assert [o.case_id for o in f.orders] == [still_open.pk]
    # Queries: cases, card counts, card rows, the person's units, (no township: a department), the
    # published results, the work reports; the city admin's grants are cached for the request.
    assert first <= 8
    _handled(cast, units, 4)
    f, second = measured()
    assert f.counts["handled"] == 8
    assert second == first  # constant in the number of cases


def test_who_may_read_a_file(cast, units, client):
    member = cast.village_member  # home node: Jiusan village in Shangwang street
    allowed = (cast.city_admin, cast.township_a_staff, member)
    refused = (cast.township_b_staff, cast.department_user, cast.other_tenant_admin)
    for user in refused:
        client.force_login(user)
        assert client.get(f"/api/v1/reports/cadres/{member.pk}/file/").status_code == 404
        assert client.get(f"/reports/files/{member.pk}/").status_code == 404
    for user in allowed:
        client.force_login(user)
        assert client.get(f"/api/v1/reports/cadres/{member.pk}/file/").status_code == 200
    # A department officer's file: the city and the officer, not a township.
    officer = cast.department_user.pk
    client.force_login(cast.township_a_staff)
    assert client.get(f"/api/v1/reports/cadres/{officer}/file/").status_code == 404
    for user in (cast.city_admin, cast.department_user):
        client.force_login(user)
        assert client.get(f"/api/v1/reports/cadres/{officer}/file/").status_code == 200
    # The list: a township sees its own people, not the sibling's.
    client.force_login(cast.township_a_staff)
    names = {p["username"] for p in client.get("/api/v1/reports/cadres/").json()["results"]}
    assert member.username in names and cast.township_b_staff.username not in names


def test_the_file_page_and_its_exports_are_in_chinese(cast, units, client):
    _handled(cast, units, 2)
    client.force_login(cast.city_admin)
    url = f"/reports/files/{cast.department_user.pk}/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "实绩档案" in page.content.decode()
    book = client.get(url + "file.xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert book.status_code == 200 and book.content.startswith(b"PK")
    pdf = client.get(url + "file.pdf", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/api/v1/reports/cadres/0/file/?year=1999").status_code == 404
    bad = client.get(f"/api/v1/reports/cadres/{cast.department_user.pk}/file/?year=1999")
    assert bad.status_code == 400


# --- work reports --------------------------------------------------------------------------------


def submit(cast, units, **kw) -> WorkReport:
    values = {
        "actor": cast.department_user,
        "unit": units.police,
        "year": this_year(),
        "text": "全年工作总结",
    }
    values.update(kw)
    return work_reports.work_report_submit(**values)


def test_a_second_submission_for_the_year_is_refused_and_the_database_refuses_it_too(cast, units, client):
    submit(cast, units)
    with pytest.raises(ValidationError) as err:
        submit(cast, units, text="第二份")
    assert "year" in err.value.message_dict
    assert WorkReport.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkReport.objects.create(
            tenant=cast.ruian, unit=units.police, year=this_year(), submitted_by=cast.department_user
        )
    client.force_login(cast.department_user)
    response = client.post(
        "/api/v1/reports/work-reports/", {"unit": units.police.pk, "year": this_year(), "text": "再交一次"},
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["year"][0] == f"市公安局 已提交过 {this_year()} 年度的述职报告。"
    assert WorkReport.objects.count() == 1
    # On the page the refusal is shown in Chinese and what was typed is still in the form.
    page = client.post(
        "/reports/work-reports/", {"unit": units.police.pk, "year": this_year(), "text": "再交一次的<全文>"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    body = page.content.decode()
    assert page.status_code == 200 and f"市公安局 已提交过 {this_year()} 年度的述职报告。" in body
    assert "再交一次的&lt;全文&gt;</textarea>" in body
    assert WorkReport.objects.count() == 1


def test_submission_is_the_departments_own(cast, units):
    with pytest.raises(PermissionDenied):
        submit(cast, units, actor=cast.city_admin)
    with pytest.raises(ValidationError):
        submit(cast, units, text="")  # neither text nor file
    with pytest.raises(ValidationError):
        submit(cast, units, year=this_year() + 1)
    assert WorkReport.objects.count() == 0


def test_review_then_score_once_within_0_to_100_and_no_edit_after_review(cast, units, client):
    report = submit(cast, units)
    with pytest.raises(ValidationError):
        work_reports.work_report_score(
            actor=cast.city_admin, report=report, score=Decimal(80)
        )  # not reviewed
    with pytest.raises(PermissionDenied):
        work_reports.work_report_review(actor=cast.township_a_staff, report=report, note="好")
    work_reports.work_report_edit(actor=cast.department_user, report=report, text="修改后的总结")
    work_reports.work_report_review(actor=cast.city_admin, report=report, note="内容详实")
    with pytest.raises(ValidationError):
        work_reports.work_report_edit(actor=cast.department_user, report=report, text="审阅后再改")
    for bad in (Decimal("-1"), Decimal("100.01"), Decimal("NaN")):
        with pytest.raises(ValidationError):
            work_reports.work_report_score(actor=cast.city_admin, report=report, score=bad)
    client.force_login(cast.city_admin)
    url = f"/api/v1/reports/work-reports/{report.pk}/score/"
    refused = client.post(
        url, {"score": 101}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert refused.status_code == 400 and refused.json()["score"][0] == "述职报告评分须在 0 到 100 之间。"
    assert client.post(url, {"score": "88.5"}, content_type="application/json").status_code == 200
    twice = client.post(url, {"score": 90}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert twice.status_code == 400
    report.refresh_from_db()
    assert (report.status, report.score, report.text) == (
        WorkReportStatus.SCORED,
        Decimal("88.50"),
        "修改后的总结",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkReport.objects.filter(pk=report.pk).update(score=Decimal("120"))


def test_work_reports_are_seen_by_the_city_and_the_department_only(cast, units, client):
    report = submit(cast, units)
    url = f"/api/v1/reports/work-reports/{report.pk}/"
    other_department = cast.department_user.__class__.objects.create_user(
        username="justice1", tenant=cast.ruian
    )
    from teams.services import membership_add

    membership_add(actor=None, unit=units.justice, user=other_department)
    for outsider in (cast.township_a_staff, cast.township_b_staff, other_department, cast.other_tenant_admin):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.get(f"/reports/work-reports/{report.pk}/").status_code == 404
    for insider in (cast.city_admin, cast.department_user):
        client.force_login(insider)
        assert client.get(url).json()["text"] == "全年工作总结"


# --- department scorecards -----------------------------------------------------------------------

DEPARTMENT_INDICATORS = [
    {"name": "按时办结率", "source": Source.ON_TIME_RATE, "weight": 100},
    {"name": "部门按时办结率", "source": Source.UNIT_ON_TIME_RATE, "weight": 40},
    {"name": "部门逾期率", "source": Source.UNIT_OVERDUE, "weight": 20},
    {"name": "部门督办牌", "source": Source.UNIT_CARDS, "weight": 10},
    {"name": "述职评议", "source": Source.WORK_REPORT, "weight": 30},
]


def department_round(cast, indicators=DEPARTMENT_INDICATORS):
    today = timezone.localdate()
    scheme = services.scheme_create(
        actor=cast.city_admin, tenant=cast.ruian, name="部门考核", period_start=today.replace(month=1, day=1),
        period_end=today, indicators=indicators, vetoes=[{"rule": "red_cards"}], min_cases=2, min_households=1,
    )  # fmt: skip
    return services.round_open(actor=cast.city_admin, scheme=scheme, name="第一轮")


def test_department_weights_add_up_to_100_on_their_own(cast):
    bad = [DEPARTMENT_INDICATORS[0], dict(DEPARTMENT_INDICATORS[1], weight=50)]
    with pytest.raises(ValidationError) as err:
        department_round(cast, bad)
    assert "indicators" in err.value.message_dict


def test_department_scorecards_total_the_weighted_lines_and_rank_apart(cast, units, client):
    _handled(cast, units, 4)  # police: 4 closed, 1 of them late
    report = submit(cast, units)
    work_reports.work_report_review(actor=cast.city_admin, report=report, note="审阅")
    work_reports.work_report_score(actor=cast.city_admin, report=report, score=Decimal(80))
    rnd = department_round(cast)
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    townships = Scorecard.objects.filter(round=rnd, department__isnull=True)
    assert townships.count() == 2 and all(c.lines.count() == 1 for c in townships)
    police = Scorecard.objects.get(round=rnd, department=units.police)
    justice = Scorecard.objects.get(round=rnd, department=units.justice)
    lines = {line.indicator.source: line for line in police.lines.all()}
    assert (lines[Source.UNIT_ON_TIME_RATE].value, lines[Source.UNIT_ON_TIME_RATE].weighted) == (
        75.0,
        Decimal("30.00"),
    )
    assert (lines[Source.UNIT_OVERDUE].value, lines[Source.UNIT_OVERDUE].weighted) == (25.0, Decimal("15.00"))
    assert lines[Source.UNIT_CARDS].weighted == Decimal("10.00")  # no card: the best (and only) ranked
    assert lines[Source.WORK_REPORT].evidence == {"work_report": report.pk}
    assert lines[Source.WORK_REPORT].weighted == Decimal("24.00")
    assert police.total == sum(line.weighted for line in police.lines.all()) == Decimal("79.00")
    assert (police.rank, police.insufficient) == (1, False)
    assert (justice.rank, justice.insufficient) == (None, True)  # no case, no report
    view = selectors.round_view(cast.city_admin, rnd)  # each table with its own indicators
    assert [i["source"] for i in view["scheme"]["indicators"]] == [Source.ON_TIME_RATE]
    assert len(view["scheme"]["department_indicators"]) == 4 and len(view["departments"]) == 2
    assert selectors.round_view(cast.township_a_staff, rnd)["departments"] == []
    # Computing again changes nothing; publishing freezes the departments too.
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    assert Scorecard.objects.filter(round=rnd).count() == 4
    police = Scorecard.objects.get(round=rnd, department=units.police)
    services.round_publish(actor=cast.city_admin, rnd=rnd)
    rnd.refresh_from_db()
    assert [c["unit"]["name"] for c in rnd.snapshot["departments"]] == ["市公安局", "市司法局"]
    with pytest.raises(ValidationError):
        services.round_compute(actor=cast.city_admin, rnd=rnd)
    # Who sees a department's card: the city, and the department itself.
    url = f"/api/v1/reports/department-scorecards/{police.pk}/"
    for outsider in (cast.township_a_staff, cast.other_tenant_admin):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(cast.department_user)
    body = client.get(url).json()
    assert body["scorecard"]["total"] == float(police.total)
    assert client.get(f"/api/v1/reports/department-scorecards/{justice.pk}/").status_code == 404
    client.force_login(cast.city_admin)
    page = client.get(f"/reports/assessment/{rnd.pk}/departments/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "市公安局" in page.content.decode()
    assert client.get(f"/reports/assessment/{rnd.pk}/departments.xlsx").content.startswith(b"PK")
    assert client.get(f"/reports/assessment/departments/{police.pk}/").status_code == 200
    assert client.get(f"/reports/assessment/departments/{police.pk}/scorecard.pdf").content.startswith(
        b"%PDF"
    )


def test_the_file_shows_the_departments_published_result_and_work_report(cast, units):
    _handled(cast, units, 2)
    report = submit(cast, units)
    rnd = department_round(cast)
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    services.round_publish(actor=cast.city_admin, rnd=rnd)
    f = files.performance_file(cast.city_admin, cast.department_user, this_year())
    assert [s.department_id for s in f.results] == [units.police.pk]
    assert [w.pk for w in f.work_reports] == [report.pk]


def test_lists_stay_within_their_query_budgets(cast, units, client, django_assert_max_num_queries):
    submit(cast, units)
    from teams.services import membership_add

    clerk = cast.department_user.__class__.objects.create_user(username="justice2", tenant=cast.ruian)
    membership_add(actor=None, unit=units.justice, user=clerk)
    submit(cast, units, actor=clerk, unit=units.justice)
    client.force_login(cast.city_admin)
    client.get("/api/v1/reports/cadres/")  # warm: the signed-in user's rights are cached afterwards
    # 1. user, 2. the access version of the user's rights, 3. the reports with their units and people
    # (one join); the session comes from the cache.
    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/reports/work-reports/").json()
    assert {r["unit"]["name"] for r in body} == {"市公安局", "市司法局"}
    # 1. user, 2. access version, 3. one page of cadres with their home nodes.
    with django_assert_max_num_queries(5):
        page = client.get("/api/v1/reports/cadres/").json()
    assert len(page["results"]) >= 7


def test_a_department_appeals_its_veto_and_the_city_grants_it(cast, units, client):
    """A red card against the police vetoes its scorecard: the police (and nobody else) appeal, the
    city decides, and the departments' ranking follows."""
    _handled(cast, units, 4)
    carded = record(cast, title="红牌案件")
    case_services.case_dispatch(
        actor=cast.township_a_staff, case=carded, responsible_unit=units.police,
        responsible_person=cast.department_user,
    )  # fmt: skip
    supervision.order_issue(actor=cast.city_admin, case=carded, grade=3, reason="严重逾期")
    report = submit(cast, units)
    work_reports.work_report_review(actor=cast.city_admin, report=report, note="审阅")
    work_reports.work_report_score(actor=cast.city_admin, report=report, score=Decimal(80))
    rnd = department_round(cast)
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    police = Scorecard.objects.get(round=rnd, department=units.police)
    assert (police.vetoed, police.insufficient, police.rank) == (True, False, 1)
    hit = police.vetoes.get()
    url = f"/api/v1/reports/vetoes/{hit.pk}/appeal/"
    for outsider in (cast.township_a_staff, cast.other_tenant_admin):  # they cannot see the card
        client.force_login(outsider)
        assert client.post(url, {"reason": "不服"}, content_type="application/json").status_code == 404
    client.force_login(cast.city_admin)  # sees the card, but is not the department
    assert client.post(url, {"reason": "不服"}, content_type="application/json").status_code == 403
    hit.refresh_from_db()
    assert hit.status == "standing"
    client.force_login(cast.department_user)
    response = client.post(url, {"reason": "红牌系他人转办延误"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "appealed"
    services.veto_decide(actor=cast.city_admin, hit=hit, grant=True, note="经核实，予以撤销")
    police.refresh_from_db()
    assert (police.vetoed, police.rank) == (False, 1)
