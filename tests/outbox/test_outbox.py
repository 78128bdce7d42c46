"""The outbox: with the broker down, changes still succeed and their follow-up work waits in a row
written in the same transaction; when the broker answers again the relay publishes it exactly once."""

from __future__ import annotations

import threading
import warnings

import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.core.management import call_command
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent
from grids.registry.models import ImportJob, ImportStatus
from ruian_grid.beat import SCHEDULE
from ruian_grid.celery import app as celery_app
from ruian_grid.outbox import services as outbox
from ruian_grid.outbox.models import OutboxMessage
from tests.cases.conftest import record
from tests.registry.conftest import resident_row, upload, xlsx

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker(tmp_path):
    """Point the app at a broker for one test, tasks travelling through it (not run in place)."""
    conf = celery_app.conf
    original = conf.broker_url, conf.task_always_eager

    class Broker:
        embedded = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"

        def down(self):
            conf.broker_url, conf.task_always_eager = CLOSED_PORT, False

        def up(self):
            conf.broker_url, conf.task_always_eager = self.embedded, False

        def eager(self):
            conf.broker_url, conf.task_always_eager = original

        def queued(self):
            """The messages waiting on the default queue, taken off it."""
            found = []
            with celery_app.connection_for_read(self.embedded) as conn, conn.SimpleQueue("celery") as queue:
                while True:
                    try:
                        message = queue.get(timeout=0.5)
                    except queue.Empty:
                        return found
                    found.append((message.headers["task"], message.headers["argsrepr"]))
                    message.ack()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        yield Broker()
    conf.broker_url, conf.task_always_eager = original


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


CASE = {"kind": "dispute", "sub_kind": "neighbour", "source": "visit", "title": "宅基地边界纠纷"}


@pytest.mark.django_db
def test_recording_a_case_with_the_broker_down_succeeds_and_the_relay_sends_it_once(
    cast, units, broker, django_capture_on_commit_callbacks
):
    broker.down()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.village_member).post(
            "/api/v1/cases/", {**CASE, "node": cast.plot_a1.pk}, format="json"
        )
    assert response.status_code == 201, response.content
    event = CaseEvent.objects.get(case_id=response.json()["id"])
    waiting = OutboxMessage.objects.get()
    assert (waiting.key, waiting.task, waiting.args) == (
        f"cases.event_notify:{event.pk}",
        "cases.event_notify",
        [event.pk],
    )
    assert waiting.sent_at is None and waiting.attempts == 1 and waiting.last_error

    broker.up()
    assert outbox.relay() == 1
    assert outbox.relay() == 0  # a second run sends nothing more
    assert broker.queued() == [("cases.event_notify", f"[{event.pk}]")]
    waiting.refresh_from_db()
    assert waiting.sent_at is not None and waiting.attempts == 2 and waiting.last_error == ""


@pytest.mark.django_db
def test_dispatching_with_the_broker_down_succeeds(cast, units, broker, django_capture_on_commit_callbacks):
    case = record(cast)
    broker.down()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.township_a_staff).post(
            f"/api/v1/cases/{case.pk}/dispatch/",
            {"version": case.version, "responsible_unit": units.police.pk},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).status == "dispatched"
    dispatched = CaseEvent.objects.get(case=case, to_status="dispatched")
    waiting = OutboxMessage.objects.get(key=f"cases.event_notify:{dispatched.pk}")
    assert waiting.sent_at is None and waiting.attempts == 1


@pytest.mark.django_db
def test_an_import_uploaded_with_the_broker_down_runs_once_the_broker_returns(
    cast, broker, django_capture_on_commit_callbacks
):
    rows = [resident_row(cast.plot_a1.code, "JS-1", 1)]
    client = api(cast.township_a_staff)
    broker.down()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/registry/imports/", {"kind": "residents", "file": upload(xlsx(rows))}, format="multipart"
        )
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportStatus.QUEUED
    assert OutboxMessage.objects.get(sent_at__isnull=True).key == f"registry.import:{job.pk}"

    broker.eager()  # the broker is back and a worker takes the task: here it runs in place
    call_command("outbox_relay", stdout=open("/dev/null", "w"))  # noqa: SIM115
    job.refresh_from_db()
    assert (job.status, job.added) == (ImportStatus.DONE, 1)
    assert outbox.relay() == 0
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_the_same_key_queues_the_work_once(broker):
    broker.up()
    with transaction.atomic():
        outbox.enqueue(task="cases.event_notify", key="cases.event_notify:7", args=[7])
        outbox.enqueue(task="cases.event_notify", key="cases.event_notify:7", args=[7])
    assert OutboxMessage.objects.count() == 1
    assert outbox.relay() == 1
    assert broker.queued() == [("cases.event_notify", "[7]")]


@pytest.mark.django_db
def test_nothing_is_queued_when_the_change_rolls_back(broker):
    broker.up()
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(task="cases.event_notify", key="cases.event_notify:8", args=[8])
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert outbox.relay() == 0


def test_the_relay_runs_every_minute_from_the_schedule():
    assert SCHEDULE["outbox-relay"] == {"task": "outbox.relay", "crontab": {"minute": "*"}, "kwargs": {}}
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert "outbox.relay" in celery_app.tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_another_relay_holds_is_skipped_not_sent_twice(broker):
    broker.up()
    outbox.enqueue(task="cases.event_notify", key="cases.event_notify:9", args=[9])  # autocommit: sent now
    broker.down()
    outbox.enqueue(task="cases.event_notify", key="cases.event_notify:10", args=[10])
    broker.up()
    held, release = threading.Event(), threading.Event()

    def other_relay():
        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update().filter(sent_at__isnull=True))
            held.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=other_relay)
    thread.start()
    held.wait(10)
    try:
        assert outbox.relay() == 0  # the waiting row is locked by the other relay: skipped
    finally:
        release.set()
        thread.join()
    assert outbox.relay() == 1
    assert [args for _task, args in broker.queued()] == ["[9]", "[10]"]
    assert connection.vendor == "postgresql"
