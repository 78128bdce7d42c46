"""Assessment: schemes refused unless the weights add up to 100, rounds computed idempotently with a
fair ranking, vetoes naming their evidence and appealed, published rounds frozen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import Case
from reports import selectors, services
from reports.models import Line, Round, Scheme, Scorecard, Source, VetoHit, VetoKind, VetoStatus
from tests.cases.conftest import record
from tests.reports.test_dashboard import close

pytestmark = pytest.mark.django_db


def today():
    """Read at each use, not once at collection: a run may cross midnight in Asia/Shanghai."""
    return timezone.localdate()


INDICATORS = [
    {"name": "按时办结率", "source": Source.ON_TIME_RATE, "weight": 40},
    {"name": "走访覆盖率", "source": Source.VISIT_COVERAGE, "weight": 20},
    {"name": "群众满意率", "source": Source.SATISFACTION, "weight": 30},
    {"name": "述职评议", "source": Source.MANUAL, "weight": 10},
]
VETOES = [{"name": "重大刑事案件", "rule": VetoKind.MAJOR_INCIDENT, "threshold": 1}]


def make_scheme(cast, **kw) -> Scheme:
    values = {
        "actor": cast.city_admin,
        "tenant": cast.ruian,
        "name": "2026年度平安考核",
        "period_start": today().replace(day=1),
        "period_end": today(),
        "indicators": INDICATORS,
        "vetoes": VETOES,
        "min_cases": 2,
        "min_households": 1,
    }
    values.update(kw)
    return services.scheme_create(**values)


@pytest.fixture
def scored(cast, units, field):
    """Township A: 2 cases closed (satisfied), one critical incident; township B: 1 case closed."""
    for _ in range(2):
        close(cast, units, record(cast, kind="dispute", title="邻里纠纷"), "satisfied")
    close(
        cast,
        units,
        record(cast, node=cast.plot_b1, actor=cast.city_admin, kind="dispute", title="纠纷"),
        "satisfied",
        staff=cast.city_admin,
    )
    critical = record(cast, kind="incident", sub_kind="fight", severity="critical", title="持械斗殴")
    scheme = make_scheme(cast)
    rnd = services.round_open(actor=cast.city_admin, scheme=scheme, name="2026年第一轮")
    return scheme, rnd, critical


def test_weights_that_do_not_add_up_are_refused_and_nothing_is_written(cast, client):
    bad = [dict(INDICATORS[0], weight=50), INDICATORS[1]]
    with pytest.raises(ValidationError) as err:
        make_scheme(cast, indicators=bad)
    assert "indicators" in err.value.message_dict
    client.force_login(cast.city_admin)
    response = client.post(
        "/api/v1/reports/schemes/",
        {"name": "x", "period_start": "2026-01-01", "period_end": "2026-12-31", "indicators": bad},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert response.json()["indicators"][0] == "各项指标权重之和必须为 100（现为 70）。"
    assert Scheme.objects.count() == 0


def test_a_veto_item_without_a_rule_is_refused(cast):
    with pytest.raises(ValidationError) as err:
        make_scheme(cast, vetoes=[{"name": "无规则", "rule": ""}])
    assert "vetoes" in err.value.message_dict
    assert Scheme.objects.count() == 0


def test_only_city_administrators_define_schemes(cast):
    with pytest.raises(PermissionDenied):
        make_scheme(cast, actor=cast.township_a_staff)
    assert make_scheme(cast).indicators.count() == 4


def test_round_scores_each_township_and_the_total_is_the_sum_of_weighted_lines(cast, scored):
    scheme, rnd, critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    cards = {c.unit_id: c for c in Scorecard.objects.filter(round=rnd)}
    assert len(cards) == 2
    a = cards[cast.township_a.pk]
    for card in cards.values():
        assert card.total == sum(line.weighted for line in card.lines.all())
    on_time = a.lines.get(indicator__source=Source.ON_TIME_RATE)
    assert (on_time.value, on_time.basis, on_time.points, on_time.weighted) == (
        100.0,
        2,
        100.0,
        Decimal("40.00"),
    )
    assert sorted(on_time.evidence["cases"]) == sorted(
        Case.objects.filter(township=cast.township_a, status="closed").values_list("pk", flat=True)
    )
    coverage = a.lines.get(indicator__source=Source.VISIT_COVERAGE)
    assert coverage.value == 0.0 and coverage.basis == 4  # four households, none visited
    manual = a.lines.get(indicator__source=Source.MANUAL)
    assert manual.insufficient and manual.weighted == 0  # not scored by hand yet
    # The critical incident vetoes township A, naming the case.
    hit = VetoHit.objects.get(scorecard=a)
    assert hit.evidence == {"cases": [critical.pk]} and a.vetoed
    # Township B rests on one closed case (< 2): insufficient data, not ranked.
    b = cards[cast.township_b.pk]
    assert b.insufficient and b.rank is None
    assert b.lines.get(indicator__source=Source.ON_TIME_RATE).insufficient


def test_computing_again_changes_nothing_and_keeps_the_appeal(cast, scored):
    _scheme, rnd, _critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    hit = VetoHit.objects.get()
    services.veto_appeal(actor=cast.township_a_staff, hit=hit, reason="系外来人员所为，已当场处置")
    before = (Scorecard.objects.count(), Line.objects.count(), VetoHit.objects.count())
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    assert (Scorecard.objects.count(), Line.objects.count(), VetoHit.objects.count()) == before
    assert VetoHit.objects.get().status == VetoStatus.APPEALED


def test_a_hand_score_needs_a_reason_and_counts_after_computing(cast, scored):
    scheme, rnd, _critical = scored
    manual = scheme.indicators.get(source=Source.MANUAL)
    with pytest.raises(ValidationError):
        services.manual_score_set(
            actor=cast.city_admin,
            rnd=rnd,
            indicator=manual,
            unit=cast.township_a,
            points=Decimal(80),
            reason=" ",
        )
    services.manual_score_set(
        actor=cast.city_admin,
        rnd=rnd,
        indicator=manual,
        unit=cast.township_a,
        points=Decimal(80),
        reason="述职评议良好",
    )
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    line = Line.objects.get(scorecard__unit=cast.township_a, indicator=manual)
    assert (line.points, line.weighted, line.note) == (80.0, Decimal("8.00"), "述职评议良好")


def test_a_granted_appeal_lifts_the_veto_and_the_ranking_follows(cast, scored):
    scheme, rnd, _critical = scored
    manual = scheme.indicators.get(source=Source.MANUAL)
    services.manual_score_set(
        actor=cast.city_admin,
        rnd=rnd,
        indicator=manual,
        unit=cast.township_a,
        points=Decimal(90),
        reason="良好",
    )
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    assert Scorecard.objects.get(round=rnd, unit=cast.township_a).rank == 1  # ranked, though vetoed
    assert Scorecard.objects.get(round=rnd, unit=cast.township_a).vetoed
    hit = VetoHit.objects.get()
    with pytest.raises(PermissionDenied):
        services.veto_appeal(actor=cast.township_b_staff, hit=hit, reason="不是我们")
    services.veto_appeal(actor=cast.township_a_staff, hit=hit, reason="系外来人员所为")
    with pytest.raises(ValidationError):
        services.round_publish(actor=cast.city_admin, rnd=rnd)  # an appeal is pending
    services.veto_decide(actor=cast.city_admin, hit=hit, grant=True, note="经核实，不属本辖区责任")
    hit.refresh_from_db()
    assert hit.status == VetoStatus.OVERTURNED and hit.decided_by == cast.city_admin
    a = Scorecard.objects.get(round=rnd, unit=cast.township_a)
    assert not a.vetoed and a.rank == 1


def test_a_published_round_is_frozen_and_does_not_change_when_its_cases_do(cast, units, scored, client):
    _scheme, rnd, critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    services.round_publish(actor=cast.city_admin, rnd=rnd)
    client.force_login(cast.city_admin)
    seen = client.get(f"/api/v1/reports/rounds/{rnd.pk}/").json()
    # New cases after publication, and a case's satisfaction rewritten: the round stays as published.
    close(cast, units, record(cast, kind="dispute", title="新纠纷"), "unsatisfied")
    Case.objects.filter(pk=critical.pk).update(severity="general")
    for attempt in (
        lambda: services.round_compute(actor=cast.city_admin, rnd=rnd),
        lambda: services.round_publish(actor=cast.city_admin, rnd=rnd),
        lambda: services.veto_appeal(actor=cast.township_a_staff, hit=VetoHit.objects.get(), reason="申诉"),
    ):
        with pytest.raises(ValidationError) as err:
            attempt()
        assert "frozen" in str(err.value) or "冻结" in str(err.value)
    response = client.post(f"/api/v1/reports/rounds/{rnd.pk}/compute/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert client.get(f"/api/v1/reports/rounds/{rnd.pk}/").json() == seen
    assert Round.objects.get(pk=rnd.pk).status == "published"


def test_township_sees_only_its_own_scorecard_and_the_rows_behind_it(cast, scored, client):
    _scheme, rnd, critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    client.force_login(cast.township_b_staff)
    body = client.get(f"/api/v1/reports/rounds/{rnd.pk}/").json()
    assert [c["unit"]["id"] for c in body["scorecards"]] == [cast.township_b.pk]
    a = Scorecard.objects.get(round=rnd, unit=cast.township_a)
    hit = VetoHit.objects.get()
    assert client.get(f"/api/v1/reports/scorecards/{a.pk}/rows/?veto={hit.pk}").status_code == 404
    assert client.post(f"/api/v1/reports/vetoes/{hit.pk}/appeal/", {"reason": "x"}).status_code == 404
    client.force_login(cast.township_a_staff)
    rows = client.get(f"/api/v1/reports/scorecards/{a.pk}/rows/?veto={hit.pk}").json()
    assert [c["id"] for c in rows["cases"]] == [critical.pk]
    response = client.post(f"/api/v1/reports/vetoes/{hit.pk}/appeal/", {"reason": "系外来人员所为"})
    assert response.status_code == 200 and response.json()["status"] == "appealed"


def test_other_city_cannot_see_the_round(cast, scored, client):
    _scheme, rnd, _critical = scored
    client.force_login(cast.other_tenant_admin)
    assert client.get(f"/api/v1/reports/rounds/{rnd.pk}/").status_code == 404
    assert client.post(f"/api/v1/reports/rounds/{rnd.pk}/compute/").status_code == 404
    client.force_login(cast.city_admin)
    assert client.post(f"/api/v1/reports/rounds/{rnd.pk}/compute/").status_code == 200


def test_round_view_reads_the_snapshot_once_published(cast, scored):
    _scheme, rnd, _critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    rnd = services.round_publish(actor=cast.city_admin, rnd=rnd)
    Scorecard.objects.filter(round=rnd).update(total=Decimal("1.00"))  # even a write behind the services
    view = selectors.round_view(cast.city_admin, rnd)
    assert all(c["total"] != 1.0 for c in view["scorecards"] if not c["insufficient"])
    assert dt.date.fromisoformat(view["scheme"]["period_end"]) == today()


def test_round_and_scorecard_pages_and_exports(cast, scored, client):
    import io

    from openpyxl import load_workbook

    _scheme, rnd, critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    a = Scorecard.objects.get(round=rnd, unit=cast.township_a)
    client.force_login(cast.township_b_staff)
    assert client.get(f"/reports/assessment/scorecards/{a.pk}/").status_code == 404
    client.force_login(cast.township_a_staff)
    page = client.get(f"/reports/assessment/scorecards/{a.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="card-total">{a.total:.2f}<' in html and f"/cases/{critical.pk}/" in html
    client.force_login(cast.city_admin)
    assert client.get(f"/reports/assessment/{rnd.pk}/").status_code == 200
    assert rnd.name in client.get("/reports/assessment/").content.decode()
    book = load_workbook(io.BytesIO(client.get(f"/reports/assessment/{rnd.pk}/export.xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == rnd.name and len(rows) == 2 + 2  # title, header, two townships
    assert {r[1] for r in rows[2:]} == {"上望街道", "塘下镇"}
    dash = load_workbook(io.BytesIO(client.get(f"/reports/{cast.city.pk}/export.xlsx").content))
    assert [r[0] for r in dash.active.iter_rows(min_row=3, values_only=True)] == ["上望街道", "塘下镇"]
    client.force_login(cast.other_tenant_admin)
    assert client.get(f"/reports/assessment/{rnd.pk}/export.xlsx").status_code == 404
    assert client.get(f"/reports/{cast.city.pk}/export.xlsx").status_code == 404


def _pdf_streams(data: bytes) -> bytes:
    """Every stream of a PDF, inflated (fonts, text, the ToUnicode maps)."""
    import re
    import zlib

    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out += zlib.decompress(match.group(1))
        except zlib.error:
            out += match.group(1)
    return out


def _has_text(streams: bytes, text: str) -> bool:
    """Every character of `text` is mapped in a ToUnicode CMap (hex code points, as WeasyPrint writes)."""
    lowered = streams.lower()
    return all(f"{ord(ch):04x}".encode() in lowered for ch in text)


def test_scorecard_and_case_sheet_pdfs_carry_the_chinese_text(cast, scored, client):
    _scheme, rnd, critical = scored
    services.round_compute(actor=cast.city_admin, rnd=rnd)
    a = Scorecard.objects.get(round=rnd, unit=cast.township_a)
    client.force_login(cast.township_b_staff)
    assert client.get(f"/reports/assessment/scorecards/{a.pk}/scorecard.pdf").status_code == 404
    assert client.get(f"/reports/cases/{critical.pk}/sheet.pdf").status_code == 404
    client.force_login(cast.township_a_staff)
    for url, expected in (
        (f"/reports/assessment/scorecards/{a.pk}/scorecard.pdf", ["上望街道", "按时办结率"]),
        (f"/reports/cases/{critical.pk}/sheet.pdf", ["持械斗殴"]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        streams = _pdf_streams(response.content)
        assert b"WenQuanYi" in streams  # the CJK font is embedded
        for word in expected:
            assert _has_text(streams, word)
