"""The daily work log (工作日志): built from visits, case timeline entries and registry changes, plus
notes; read by the person and by the township in scope; a closed day takes annotations only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from cases import services as case_services
from grids.registry import services as registry
from teams import services
from teams.models import NoteKind, WorkLogNote

pytestmark = pytest.mark.django_db


def _a_day_of_work(cast, field, extra: int = 0) -> None:
    """The village member visits, raises a case from the visit, and changes a household's record."""
    member = field.member
    for i, household in enumerate(field.mine[: 1 + min(extra, 2)]):
        visit, _ = services.visit_record(
            actor=member,
            client_id=uuid.uuid4(),
            household_id=household.pk,
            visited_on=timezone.localdate(),
            seen=f"走访{i}",
            outcome="case" if i == 0 else "routine",
        )
        if i == 0:
            case_services.case_raise_from_visit(actor=member, visit=visit, kind="dispute", title="邻里纠纷")
    for i in range(1 + extra):
        registry.household_update(actor=member, household=field.mine[1], address=f"九三村新址{i}号")


def test_a_persons_log_shows_their_visits_cases_and_registry_changes(cast, field, client):
    _a_day_of_work(cast, field)
    client.force_login(field.member)
    entries = client.get("/api/v1/work-log/").json()
    kinds = {e["kind"] for e in entries}
    assert kinds == {"visit", "case", "registry"}
    assert any(e["label"] == "走访户 A1-1" for e in entries)
    assert all(e["actor"] in ("", str(field.member)) for e in entries)
    # Nobody else's work: the township staff did nothing today.
    client.force_login(cast.township_a_staff)
    assert client.get("/api/v1/work-log/").json() == []


def test_a_township_reads_a_members_log_but_another_township_gets_404(cast, field, client):
    _a_day_of_work(cast, field)
    url = f"/api/v1/work-log/?person={field.member.pk}&date={timezone.localdate().isoformat()}"
    client.force_login(cast.township_b_staff)
    assert client.get(url).status_code == 404
    assert client.get(f"/teams/log/?person={field.member.pk}").status_code == 404
    client.force_login(cast.township_a_staff)
    response = client.get(url)
    assert response.status_code == 200
    assert {e["kind"] for e in response.json()} == {"visit", "case", "registry"}
    assert client.get(f"/teams/log/?person={field.member.pk}").status_code == 200


def test_a_cells_log_shows_what_anyone_did_there(cast, field, client):
    _a_day_of_work(cast, field)
    client.force_login(cast.township_a_staff)
    entries = client.get(f"/api/v1/work-log/?node={cast.cell_a1.pk}").json()
    assert {e["kind"] for e in entries} == {"visit", "case", "registry"}
    assert client.get(f"/api/v1/work-log/?node={cast.cell_a2.pk}").json() == []  # in scope, nothing done
    client.force_login(cast.township_b_staff)
    assert client.get(f"/api/v1/work-log/?node={cast.cell_a1.pk}").status_code == 404


def test_notes_are_written_and_edited_on_the_day(cast, field, client):
    client.force_login(field.member)
    response = client.post("/api/v1/work-log/notes/", {"text": "上午巡查"}, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "note"
    pk = response.json()["id"]
    edited = client.patch(
        f"/api/v1/work-log/notes/{pk}/", {"text": "上午巡查两处"}, content_type="application/json"
    )
    assert edited.status_code == 200
    assert WorkLogNote.objects.get(pk=pk).text == "上午巡查两处"
    entries = client.get("/api/v1/work-log/").json()
    assert [(e["kind"], e["label"], e["editable"]) for e in entries] == [("note", "上午巡查两处", True)]


def test_a_closed_day_cannot_be_edited_only_annotated(cast, field, client):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    # A note written yesterday (inserted as it was then: nothing moves a note's day).
    note = WorkLogNote.objects.create(
        tenant=cast.ruian,
        city=cast.city,
        township=cast.township_a,
        cell=cast.cell_a1,
        person=field.member,
        day=yesterday,
        author=field.member,
        text="昨天的记事",
    )
    client.force_login(field.member)
    url = f"/api/v1/work-log/notes/{note.pk}/?date={yesterday.isoformat()}"
    refused = client.patch(url, {"text": "改写"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json() == ["这一天已经结束，日志只能批注。"]
    assert WorkLogNote.objects.get(pk=note.pk).text != "改写"
    added = client.post(
        f"/api/v1/work-log/notes/?date={yesterday.isoformat()}",
        {"text": "补记：下午调解成功"},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert added.json()["kind"] == "annotation"
    annotation = added.json()["id"]
    again = client.patch(
        f"/api/v1/work-log/notes/{annotation}/?date={yesterday.isoformat()}",
        {"text": "x"},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert again.json() == ["批注不能修改，请另加一条。"]


def test_a_township_reader_annotates_a_members_log_but_cannot_edit_their_note(cast, field, client):
    note = services.worklog_note_add(
        actor=field.member, day=timezone.localdate(), text="走访三户", person=field.member
    )
    client.force_login(cast.township_b_staff)
    url = f"/api/v1/work-log/notes/?person={field.member.pk}"
    assert client.post(url, {"text": "已阅"}, content_type="application/json").status_code == 404
    client.force_login(cast.township_a_staff)
    response = client.post(url, {"text": "已阅"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["kind"] == "annotation"
    edit = client.patch(
        f"/api/v1/work-log/notes/{note.pk}/?person={field.member.pk}",
        {"text": "改"},
        content_type="application/json",
    )
    assert edit.status_code == 400
    assert WorkLogNote.objects.get(pk=note.pk).text == "走访三户"


def test_a_future_day_is_refused_and_nothing_stored(cast, field):
    with pytest.raises(ValidationError) as exc:
        services.worklog_note_add(
            actor=field.member,
            day=timezone.localdate() + dt.timedelta(days=1),
            text="明天",
            person=field.member,
        )
    assert exc.value.message_dict["day"] == ["尚未到来的日子不能写日志。"]
    assert not WorkLogNote.objects.exists()


@pytest.mark.parametrize("extra", [0, 2])
def test_the_log_page_runs_a_constant_number_of_queries(
    cast, field, client, extra, django_assert_max_num_queries
):
    _a_day_of_work(cast, field, extra)
    services.worklog_note_add(actor=field.member, day=timezone.localdate(), text="记事", person=field.member)
    client.force_login(cast.township_a_staff)
    client.get("/api/v1/teams/")  # warm the session
    # user (the session comes from the cache); the grants (view_gridnode); the person in scope; the
    # sources: visits, case timeline (the reader's units, then the entries), registry changes (one
    # UNION), notes; the header's unread inbox count.
    with django_assert_max_num_queries(10):
        response = client.get(f"/teams/log/?person={field.member.pk}")
    assert response.status_code == 200
    kinds = [e.kind for e in response.context["entries"]]
    assert kinds.count("registry") == 1 + extra
    assert kinds.count("note") == 1


@pytest.mark.postgres
def test_an_annotation_is_append_only_in_the_database(cast, field):
    note = WorkLogNote.objects.create(
        tenant=cast.ruian,
        city=cast.city,
        township=cast.township_a,
        cell=cast.cell_a1,
        person=field.member,
        day=timezone.localdate(),
        kind=NoteKind.ANNOTATION,
        author=cast.township_a_staff,
        text="已阅",
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        WorkLogNote.objects.filter(pk=note.pk).update(text="改")
    with pytest.raises(DatabaseError), transaction.atomic():
        WorkLogNote.objects.filter(pk=note.pk).delete()
