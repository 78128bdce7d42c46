"""PostgreSQL only: concurrent transitions (one winner, one conflict), the append-only timeline
trigger, and the list's query plan using the ancestor indexes."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from rest_framework.test import APIClient

from cases import selectors, services
from cases.models import Case, CaseEvent, Status

from .conftest import record

pytestmark = pytest.mark.postgres


def _race(n: int, work) -> list[object]:
    """Run `work(i)` in n threads released together; each returns its result or the exception raised."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_one_wins_the_other_conflicts(cast, units):
    case = record(cast)
    units = [units.police, units.justice]
    actors = [cast.township_a_staff, cast.city_admin]

    def work(i: int) -> object:
        stale = Case.objects.get(pk=case.pk)  # both read version 1
        return services.case_dispatch(actor=actors[i], case=stale, responsible_unit=units[i], version=1)

    results = _race(2, work)
    conflicts = [r for r in results if isinstance(r, services.CaseConflict)]
    winners = [r for r in results if isinstance(r, Case)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    case.refresh_from_db()
    assert case.version == 2 and case.status == Status.DISPATCHED
    assert case.responsible_unit_id == winners[0].responsible_unit_id
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


@pytest.mark.django_db(transaction=True)
def test_api_race_gives_one_200_and_one_409(cast, units):
    case = record(cast)
    case = services.case_dispatch(actor=cast.township_a_staff, case=case, responsible_unit=units.police)
    case = services.case_accept(actor=cast.department_user, case=case)

    def work(i: int) -> object:
        client = APIClient()
        if i == 0:
            client.force_authenticate(cast.department_user)
            return client.post(
                f"/api/v1/cases/{case.pk}/submit/",
                {"version": case.version, "resolution": "已处理"},
                format="json",
            ).status_code
        client.force_authenticate(cast.township_a_staff)
        return client.post(
            f"/api/v1/cases/{case.pk}/transfer/",
            {"version": case.version, "responsible_unit": units.justice.pk, "reason": "转司法"},
            format="json",
        ).status_code

    codes = _race(2, work)
    assert sorted(codes) == [200, 409], codes
    case.refresh_from_db()
    assert case.version == 4
    assert CaseEvent.objects.filter(case=case).count() == 4  # record, dispatch, accept, the winner


@pytest.mark.django_db(transaction=True)
def test_many_assisting_reports_are_all_kept(cast, units):
    case = record(cast)
    services.case_dispatch(
        actor=cast.township_a_staff,
        case=case,
        responsible_unit=units.shangwang_office,
        assists=[services.AssistSpec(units.police, "秩序")],
    )

    def work(i: int) -> object:
        return services.part_complete(
            actor=cast.department_user, case=Case.objects.get(pk=case.pk), note=f"#{i}"
        )

    results = _race(3, work)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert CaseEvent.objects.filter(case=case, action="complete_part").count() == 1


@pytest.mark.django_db
def test_timeline_trigger_refuses_update_and_delete(cast, units):
    case = record(cast)
    event = case.events.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_caseevent SET note = 'x'")
    event.refresh_from_db()
    assert event.note == case.description[:500]
    CaseEvent.objects.create(tenant=cast.ruian, case=case, action="note", note="appending is fine")


@pytest.mark.django_db
def test_list_plans_use_the_ancestor_indexes(cast, units):
    record(cast)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for user, index in ((cast.city_admin, "cases_by_city"), (cast.township_a_staff, "cases_by_township")):
            sql, params = selectors.case_list(user)[:51].query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert index in plan, plan
            assert "Sort" not in plan.split("Limit")[1].split("->")[1], plan


@pytest.mark.django_db
def test_trigger_migration_reverses_and_reapplies(cast, units):
    import importlib

    migration = importlib.import_module("cases.migrations.0002_timeline_append_only")
    case = record(cast)
    event = case.events.get()
    with transaction.atomic():
        with connection.schema_editor(atomic=False) as editor:
            migration.reverse(None, editor)
        assert CaseEvent.objects.filter(pk=event.pk).update(note="editable without the trigger") == 1
        with connection.schema_editor(atomic=False) as editor:
            migration.forward(None, editor)
        with pytest.raises(DatabaseError), transaction.atomic():
            CaseEvent.objects.filter(pk=event.pk).update(note="refused again")
        transaction.set_rollback(True)
    event.refresh_from_db()
    assert event.note != "editable without the trigger"
