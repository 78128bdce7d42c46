"""/healthz: 200 when the database and broker answer, 503 naming the failing part."""

import os
import warnings
from unittest import mock

import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.db import DatabaseError

from ruian_grid import celery as celery_module

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def broker(settings):
    """Point the Celery app at a broker URL for one test."""

    def use(url):
        celery_module.app.conf.broker_url = url

    original = celery_module.app.conf.broker_url
    yield use
    celery_module.app.conf.broker_url = original


def test_ok_with_a_real_redis_broker(client, db, broker):
    broker(REDIS)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_ok_with_the_embedded_broker(client, db, broker, tmp_path):
    broker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    assert client.get("/healthz").status_code == 200


def test_broker_down_is_503_naming_the_broker(client, db, broker):
    broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"


def test_database_down_is_503_naming_the_database(client, db, broker):
    broker(REDIS)
    with mock.patch("ruian_grid.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_healthz_is_not_cached(client, db, broker):
    broker(REDIS)
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_a_task_travels_through_the_embedded_broker(db, broker, tmp_path):
    """`make run` has no Redis: a task sent by the web must reach the queue a worker reads."""
    broker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    app = celery_module.app
    # An explicit connection: the app's producer pool may still point at the broker of an earlier test.
    with warnings.catch_warnings(), app.connection_for_write() as conn:
        warnings.simplefilter("ignore", AlwaysEagerIgnored)  # the suite runs tasks eagerly; this one travels
        sent = app.send_task("cases.deadline_sweep", queue="probe", connection=conn)
    with app.connection_for_read() as conn, conn.SimpleQueue("probe") as queue:
        message = queue.get(timeout=10)
        assert message.headers["id"] == sent.id and message.headers["task"] == "cases.deadline_sweep"
        message.ack()
