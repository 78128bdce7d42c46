"""Isolation over every route: walk the URL resolver (a new endpoint is covered without anyone
listing it) and call each route as five users.

For every route taking an object (`pk`, `attachment_pk`, `kind`), one object of that kind is made in
township_a (Shangwang street); a route whose kind has no factory below fails the test, so a new
endpoint must be given one. Lists, counts, searches, exports and pages without an object are called
too. Anonymous, another city's admin, the sibling township's staff and a department user never see
the object: not in bodies, lists, counts, exports, search results, error messages or files (each
object carries a marker of its own that must not appear). The same request from a user in scope
then succeeds, proving the refusals were about scope.

By design the city's directory of responsible units (`/api/v1/units/`) is shared within the city:
every user of Ruian may choose any unit of the city when dispatching, so for units only anonymous
and the other city are refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from cases import services as case_services
from cases import supervision
from grids.audit import services as audit_services
from grids.audit.models import Action as AuditAction
from grids.registry import services as registry_services
from grids.registry import synthetic
from reports import services as reports_services
from reports import work_reports
from teams import inbox
from teams import services as teams_services
from teams.models import UnitKind, User
from teams.services import membership_add, unit_create

from .registry.conftest import resident_row, upload, xlsx

# Views without tenant data (sign-in, schema, docs, language); see tests/test_url_scoping.py.
NO_TENANT_DATA = {
    "healthz",
    "login",
    "logout",
    "set_language",
    "schema",
    "api-docs",
    "api-redoc",
    "api-token",
    "service_worker",  # the offline pages' script: the same static code for everyone, no data
    "survey_answer",  # the residents' public survey page: the token is the key (tests/reports/test_survey.py)
}
MARK = "隔离标记"  # every object's text carries it: no outsider's response may
# plot_a1, where every object is: no outsider sees its name either. (Not its code: the import
# template's example row uses the demo city's plot code, which the cast shares.)
PLOT_NAME = "九三村第一片"
UNIT_NAME = "上望街道综治中心(隔离)"  # the responsible unit (shared within the city, so not MARK)


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue  # the admin has its own scoping test
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}", p


def routes():
    found = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in NO_TENANT_DATA:
            continue
        if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
            continue  # the same view as the route without the ".json" suffix
        found.append((route, name))
    return sorted(found)


# Which object a route is about, from its name: the first matching prefix wins.
KIND_OF_NAME = [
    ("assignment-", "assignment"),
    ("pairing-", "pairing"),
    ("teams:pairings", "coverage"),
    ("work-log-", "lognote"),
    ("inbox-", "inbox"),
    ("supervision-order-", "order"),
    ("team-", "team"),
    ("visit-cadence-", "cadence"),
    ("visit-", "visit"),
    ("teams:visit", "visit"),
    ("teams:inbox_open", "inbox"),
    ("teams:coverage", "coverage"),
    ("teams:assign", "node"),
    ("cases:order_issue", "case"),  # takes the case to supervise, not an order
    ("cases:order", "order"),
    ("cases:from_visit", "visit"),
    ("grid-", "node"),
    ("grids:node", "node"),
    ("case-", "case"),
    ("cases:file", "attachment"),
    ("cases:", "case"),
    ("unit-", "unit"),
    ("registry-household-", "household"),
    ("registry-resident-", "resident"),
    ("registry-building-", "building"),
    ("registry-dwelling-", "dwelling"),
    ("registry-establishment-", "establishment"),
    ("registry-access-", "access"),
    ("registry-import-", "import"),
    ("registry:plot", "node"),
    ("registry:household", "household"),
    ("registry:resident", "resident"),
    ("registry:building", "building"),
    ("registry:establishment", "establishment"),
    ("registry:import_template", "template"),
    ("registry:import", "import"),
    ("audit-", "audit"),
    # The working mechanisms (API basenames mech-*, pages mechanisms:*).
    ("mech-review-", "review"),
    ("mechanisms:review", "review"),
    ("mech-warning-", "warning"),
    ("mechanisms:warning", "warning"),
    ("mech-draft-", "draft"),
    ("mechanisms:draft", "draft"),
    ("mech-meeting-", "meeting"),
    ("mechanisms:meeting", "meeting"),
    ("mech-decision-", "decision"),
    ("mech-operation-", "operation"),
    ("mech-post-", "post"),
    ("mechanisms:post", "post"),
    ("mech-analysis-", "analysis"),
    ("mechanisms:analys", "analysis"),
    ("mech-patrol-", "patrol"),
    ("mechanisms:patrol", "patrol"),
    ("mech-campaign-", "campaign"),
    ("mechanisms:campaign", "campaign"),
    ("reports:node", "node"),
    ("reports:case_sheet", "case"),
    ("reports:scorecard", "scorecard"),
    ("reports:round", "round"),
    ("reports-round", "round"),
    ("reports-compute", "round"),
    ("reports-publish", "round"),
    ("reports-manual-score", "round"),
    ("reports-appeal", "veto"),
    ("reports-decide", "veto"),
    ("reports-rows", "scorecard"),
    # The residents' survey: the city's (every township opens it and sees its own grids only); the
    # printable codes are per township.
    ("reports:survey_codes", "surveycodes"),
    ("reports:survey", "survey"),
    ("reports-survey", "survey"),
    # Performance files, tracing, work reports, department scorecards (reports/views_files.py, api_files.py).
    ("reports:case_tracing", "case"),
    ("reports-case-tracing", "case"),
    ("reports:cadre_file", "cadre"),
    ("reports-cadre-file", "cadre"),
    ("reports:work_report", "workreport"),
    ("reports-work-report", "workreport"),
    ("reports:department_card", "deptcard"),
    ("reports-department-scorecard", "deptcard"),
]


def kind_of(name: str) -> str | None:
    return next((kind for prefix, kind in KIND_OF_NAME if name.startswith(prefix)), None)


@pytest.fixture
def world(cast, django_capture_on_commit_callbacks, settings, tmp_path):
    """One object of each kind in township_a, each carrying MARK; and who may see it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    actor = cast.city_admin
    household = registry_services.household_create(
        actor=actor, plot=cast.plot_a1, number="ISO-1", address=f"{MARK}九三村1号"
    )
    resident = registry_services.resident_create(
        actor=actor, household=household, name=f"{MARK}居民", id_number=synthetic.resident_id(9)
    )
    building = registry_services.building_create(
        actor=actor, plot=cast.plot_a1, code="ISO-B", name=f"{MARK}楼"
    )
    dwelling = registry_services.dwelling_create(actor=actor, building=building, number="ISO-101")
    establishment = registry_services.establishment_create(
        actor=actor,
        plot=cast.plot_a1,
        credit_code=synthetic.credit_code(9),
        name=f"{MARK}企业",
        kind="enterprise",
    )
    access = registry_services.personal_data_reveal(actor=actor, resident=resident, reason=f"{MARK}核查")
    office = unit_create(
        actor=None, tenant_id=cast.ruian.pk, kind=UnitKind.TOWNSHIP_OFFICE, code="office-iso",
        name=UNIT_NAME, node=cast.township_a,
    )  # fmt: skip
    membership_add(actor=None, unit=office, user=cast.township_a_staff)
    police = unit_create(
        actor=None,
        tenant_id=cast.ruian.pk,
        kind=UnitKind.DEPARTMENT,
        code="dept-police",
        name="市公安局",
    )
    membership_add(actor=None, unit=police, user=cast.department_user)
    case = case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="dispute", source="visit", title=f"{MARK}纠纷"
    )
    attachment = case_services.case_attach(
        actor=cast.village_member,
        case=case,
        upload=SimpleUploadedFile(
            f"{MARK}.pdf", b"%PDF-1.4\n" + MARK.encode() + b"\n%%EOF", "application/pdf"
        ),
    )
    rows = [
        resident_row(cast.plot_a1.code, "ISO-2", 11, name=f"{MARK}甲"),
        resident_row(cast.plot_a1.code, "ISO-2", 12, name=f"{MARK}乙", phone="123"),  # refused
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = registry_services.import_start(
            actor=cast.township_a_staff, kind="residents", upload=upload(xlsx(rows))
        )
    job.refresh_from_db()
    assert job.refused_file
    # People and field work: a service team, a plot assignment, a visit, the city's cadence.
    team = teams_services.service_team_create(actor=None, cell=cast.cell_a1, name=f"{MARK}服务队")
    teams_services.team_member_add(actor=None, team=team, user=cast.village_member)
    assignment = teams_services.plot_assign(
        actor=None, plot=cast.plot_a1, member=cast.village_member, duties=f"{MARK}职责"
    )
    visit, _created = teams_services.visit_record(
        actor=cast.village_member,
        client_id=uuid.uuid4(),
        household_id=household.pk,
        visited_on=dt.date.today(),
        seen=f"{MARK}所见",
    )
    cadence = teams_services.cadence_set(actor=None, tenant_id=cast.ruian.pk, tag=0, interval_days=90)
    # A police officer paired with the household (not one of the five users), and a work-log note.
    officer = User.objects.create_user(username="iso_officer", tenant=cast.ruian, full_name="王警官")
    pairing = teams_services.pairing_create(
        actor=None, officer=officer, household=household, note=f"{MARK}联户"
    )
    note = teams_services.worklog_note_add(
        actor=cast.village_member, day=dt.date.today(), text=f"{MARK}日志", person=cast.village_member
    )
    # Supervision: an order by hand on the case, and an inbox item for the township's staff member.
    order = supervision.order_issue(actor=cast.city_admin, case=case, grade=1, reason=f"{MARK}督办")
    inbox.deliver(
        tenant_id=cast.ruian.pk,
        kind="isolation",
        recipients=[cast.township_a_staff],
        subject=f"{MARK}通知",
        url="/",
        key="isolation-1",
    )
    item = cast.township_a_staff.inbox.get()
    entry = audit_services.audit_record(
        actor=cast.township_a_admin, action=AuditAction.CHANGE, obj=cast.plot_a1, node=cast.plot_a1
    )
    mechanisms = _mechanisms(cast, office)  # after the inbox item above: it delivers more
    # Assessment: a round of the city with township_a's scorecard, vetoed by a critical incident.
    critical = case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="incident", sub_kind="fight", source="visit",
        severity="critical", title=f"{MARK}斗殴",
    )  # fmt: skip
    scheme = reports_services.scheme_create(
        actor=cast.city_admin, tenant=cast.ruian, name="考核", period_start=dt.date.today().replace(day=1),
        period_end=dt.date.today(), indicators=[{"source": "on_time_rate", "weight": 100},
                                                {"source": "work_report", "weight": 100}],
        vetoes=[{"rule": "major_incident"}],
    )  # fmt: skip
    # A member department other than the department user's, its work report carrying MARK.
    justice = unit_create(
        actor=None, tenant_id=cast.ruian.pk, kind=UnitKind.DEPARTMENT, code="dept-justice", name="市司法局"
    )
    clerk = User.objects.create_user(username="iso_justice", tenant=cast.ruian, full_name="司法局 赵科员")
    membership_add(actor=None, unit=justice, user=clerk)
    work_report = work_reports.work_report_submit(
        actor=clerk, unit=justice, year=dt.date.today().year, text=f"{MARK}述职",
        attachment=SimpleUploadedFile(f"{MARK}.txt", MARK.encode(), "text/plain"),
    )  # fmt: skip
    assessment = reports_services.round_open(actor=cast.city_admin, scheme=scheme, name="第一轮")
    reports_services.round_compute(actor=cast.city_admin, rnd=assessment)
    # The residents' survey, open, with township_a's cells' links (the title is the city's: no MARK).
    from reports import survey as reports_survey

    city_survey = reports_survey.survey_create(
        actor=cast.city_admin, tenant=cast.ruian, title="测评", period_start=dt.date.today(),
        period_end=dt.date.today(), questions=[{"text": "治安状况", "kind": "safety"}],
    )  # fmt: skip
    reports_survey.survey_open(actor=cast.city_admin, survey=city_survey)
    scorecard = assessment.scorecards.get(unit=cast.township_a)
    department_card = assessment.scorecards.get(department=justice)
    veto = scorecard.vetoes.get()
    assert veto.evidence == {"cases": [critical.pk]}
    objects = {
        **mechanisms,
        "audit": {"pk": entry.pk},
        "node": {"pk": cast.plot_a1.pk},
        "case": {"pk": case.pk, "action": "accept"},
        "attachment": {"pk": case.pk, "attachment_pk": attachment.pk},
        "unit": {"pk": office.pk},
        "household": {"pk": household.pk},
        "resident": {"pk": resident.pk},
        "building": {"pk": building.pk},
        "dwelling": {"pk": dwelling.pk},
        "establishment": {"pk": establishment.pk},
        "access": {"pk": access.pk if hasattr(access, "pk") else _last_access_pk()},
        "import": {"pk": job.pk},
        "template": {"kind": "residents"},
        "assignment": {"pk": assignment.pk},
        "team": {"pk": team.pk},
        "visit": {"pk": visit.pk, "visit_pk": visit.pk},
        "cadence": {"pk": cadence.pk},
        "order": {"pk": order.pk},
        "inbox": {"pk": item.pk},
        "coverage": {"pk": cast.cell_a1.pk},
        "pairing": {"pk": pairing.pk},
        "lognote": {"note_pk": note.pk},
        "round": {"pk": assessment.pk},
        "scorecard": {"pk": scorecard.pk},
        "veto": {"pk": veto.pk},
        "survey": {"pk": city_survey.pk},
        "surveycodes": {"pk": city_survey.pk, "node": cast.township_a.pk},
        "cadre": {"pk": cast.village_member.pk},
        "workreport": {"pk": work_report.pk},
        "deptcard": {"pk": department_card.pk},
    }
    entitled = {
        "workreport": cast.city_admin,  # the city reviews; the department's own staff submit
        "deptcard": cast.city_admin,
        "access": cast.township_a_admin,
        "import": cast.township_a_staff,
        "inbox": cast.township_a_staff,  # the recipient, and nobody else
        "audit": cast.township_a_admin,
        "lognote": cast.village_member,  # the author: only they edit a note
    }
    return objects, entitled


def _mechanisms(cast, office) -> dict[str, dict]:
    """One row of each mechanism in township_a, carrying MARK (or standing at plot_a1)."""
    import datetime as dt

    from django.utils import timezone

    from mechanisms import services as m
    from mechanisms.models import EarlyWarningDraft

    now = timezone.now()
    staff = cast.township_a_staff
    review = m.review_open(actor=staff, node=cast.township_a, month=dt.date(2026, 1, 1), now=now)
    m.review_save_analysis(actor=staff, review=review, analysis=f"{MARK}研判")
    warning = m.warning_publish(
        actor=staff, node=cast.township_a, level="blue", title=f"{MARK}预警", measures="巡防",
        starts_at=now, ends_at=now + dt.timedelta(days=3),
    )  # fmt: skip
    draft = EarlyWarningDraft.objects.create(
        tenant=cast.ruian, city=cast.city, township=cast.township_a, cell=cast.cell_a1, plot=cast.plot_a1,
        node=cast.plot_a1, sub_kind="burglary", week=dt.date(2026, 5, 25), window_end=dt.date(2026, 5, 31),
        observed=9, baseline_weeks=8, baseline_total=8, expected=1.0, p_value=1e-6, method=m.METHOD,
    )  # fmt: skip
    meeting = m.meeting_schedule(
        actor=staff, node=cast.township_a, title=f"{MARK}例会", starts_at=now, unit_ids=[office.pk]
    )
    decision = m.decision_add(
        actor=staff, meeting=meeting, text=f"{MARK}决定", owner=office, due_at=now + dt.timedelta(days=3)
    )
    hazard = case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="hazard", source="patrol", title=f"{MARK}隐患"
    )
    operation = m.operation_create(actor=staff, node=cast.township_a, title=f"{MARK}整治", cases=[hazard])
    post = m.post_create(actor=staff, node=cast.township_a, title=f"{MARK}指导", body="正文")
    analysis = m.analysis_create(
        actor=staff, node=cast.township_a, period_start=dt.date(2026, 5, 1), period_end=dt.date(2026, 6, 1),
        conclusions=f"{MARK}结论",
    )  # fmt: skip
    patrol = m.patrol_record(
        actor=cast.village_member, cell=cast.cell_a1, team="九三村服务队", started_at=now - dt.timedelta(hours=1),
        ended_at=now, plots=[cast.plot_a1], note=f"{MARK}巡防",
    )  # fmt: skip
    campaign = m.campaign_create(
        actor=staff, node=cast.township_a, kind="campaign", name=f"{MARK}专项", starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    return {
        "review": {"pk": review.pk, "what": "analysis"},
        "warning": {"pk": warning.pk},
        "draft": {"pk": draft.pk},
        "meeting": {"pk": meeting.pk},
        "decision": {"pk": decision.pk},
        "operation": {"pk": operation.pk},
        "post": {"pk": post.pk},
        "analysis": {"pk": analysis.pk},
        "patrol": {"pk": patrol.pk},
        "campaign": {"pk": campaign.pk},
    }


def _last_access_pk() -> int:
    from grids.registry.models import PersonalDataAccess

    return PersonalDataAccess.objects.latest("pk").pk


def _url(route: str, kwargs: dict) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), path)
    return path.replace("\\.", ".")


def _text(response) -> str:
    """What the user receives: the body, a file's cells, the headers (a file name is a header)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace") + " ".join(str(v) for v in response.headers.values())
    if body.startswith(b"PK\x03\x04"):  # an .xlsx: read its cells
        workbook = load_workbook(io.BytesIO(body), read_only=True)
        text += " ".join(
            str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row
        )
    return text


def _call(client: Client, url: str, name: str):
    """GET, or POST with an empty body where GET is not allowed (an action), or PATCH (an edit)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    if response.status_code == 405:
        response = client.patch(url, {}, content_type="application/json")
    return response


ALL_ROUTES = routes()


def test_every_route_taking_an_object_has_a_factory():
    missing = [
        name for route, name in ALL_ROUTES if "<" in route.replace("(?P<", "<") and kind_of(name) is None
    ]
    assert missing == [], f"routes without an object factory in this test: {missing}"


@pytest.mark.parametrize(("route", "name"), ALL_ROUTES, ids=[n for _r, n in ALL_ROUTES])
def test_only_the_user_in_scope_sees_the_object(cast, world, route, name):
    objects, entitled = world
    kind = kind_of(name)
    # An import template is not an object in township_a: each user gets one for their own plots.
    takes_object = ("(?P<" in route or "<" in route) and kind != "template"
    url = _url(route, objects[kind] if "<" in route else {})
    if name == "registry-import-template":
        url += "?kind=residents"
    if name == "team-coverage":
        url += f"?node={cast.cell_a1.pk}"
    if name == "teams:assign":
        entitled = {**entitled, "node": cast.township_a_admin}  # assigning plots takes manage_grid
    # The city's visit cadence is the city's rule for all its users: it carries no text of its own.
    markers = [UNIT_NAME] if kind == "unit" else [] if kind == "cadence" else [MARK, PLOT_NAME]
    outsiders = {
        "anonymous": None,
        "other city": cast.other_tenant_admin,
        "sibling township": cast.township_b_staff,
        "department": cast.department_user,
    }
    if kind in ("unit", "cadence"):  # shared within the city by design (see the module docstring)
        outsiders = {k: v for k, v in outsiders.items() if k in ("anonymous", "other city")}
    # An assessment round is the city's: every township opens it and sees its own scorecard only,
    # so the sibling township is not refused the round, but must not see township_a's objects in it.
    open_to_sibling = kind in ("round", "survey")
    for who, user in outsiders.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        response = _call(client, url, name)
        assert response.status_code < 500, (who, url, response.status_code)
        if user is None:
            assert response.status_code in (302, 401, 403, 405), (who, url, response.status_code)
        elif takes_object and not (open_to_sibling and who == "sibling township"):
            assert response.status_code in (403, 404, 405), (who, url, response.status_code)
        shown = _text(response)
        for marker in markers:
            assert marker not in shown, f"{who} sees the object at {url} ({marker})"
    insider = Client()
    insider.force_login(entitled.get(kind, cast.township_a_staff))
    response = _call(insider, url, name)
    if response.request["REQUEST_METHOD"] == "GET":  # a page may redirect (home to the user's grid)
        assert response.status_code in (200, 302), (url, response.status_code, response.content[:300])
    else:  # an action: found, then refused for its state or an empty body, never "not found"
        assert response.status_code in (200, 201, 302, 400, 403, 409), (url, response.status_code)
    if name.endswith("-detail") and kind not in ("dwelling", "import", "node", "cadence"):
        assert any(marker in _text(response) for marker in markers), url
