"""End to end through a real Celery worker and Redis: the beat's sweep fans out per city, the worker
scans, and an overdue case gets its ordinary order, then its red card, in the inbox of the unit.

The clock is moved by the tasks' `at` argument (an ISO moment the scan uses instead of now), not by
waiting: the case's own deadline and card moments decide what the worker does."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django import db

from cases import tasks
from cases.models import AlertLevel, Case, Grade, OrderStatus, SupervisionOrder
from ruian_grid.celery import app
from teams.models import InboxItem

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[None]:
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS, task_always_eager=False)
    _fresh_connections()  # producers connect to the test broker from here on
    # The worker runs in a thread with its own database connection: closed after each task, so the
    # test database can be dropped at the end.
    task_postrun.connect(_close_db, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_db)
        app.conf.update(saved)
        _fresh_connections()


def _close_db(**_kwargs: object) -> None:
    db.connection.close()


def _fresh_connections() -> None:
    """Drop the app's broker connections so the next ones use the broker now configured."""
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.2)


def test_overdue_case_reaches_a_red_card_through_the_worker(cast, units, in_hand, worker):
    case = Case.objects.get(pk=in_hand.pk)
    late = case.due_at + dt.timedelta(minutes=1)
    tasks.deadline_sweep.delay(at=late.isoformat())
    wait_for(lambda: SupervisionOrder.objects.filter(case=case, grade=Grade.ORDINARY).exists())
    case.refresh_from_db()
    assert case.alert_level == AlertLevel.RED

    carded = case.red_card_at + dt.timedelta(minutes=1)
    tasks.deadline_sweep.delay(at=carded.isoformat())
    wait_for(lambda: SupervisionOrder.objects.filter(case=case, grade=Grade.RED).exists())
    case.refresh_from_db()
    assert case.alert_level == AlertLevel.RED_CARD
    assert SupervisionOrder.objects.get(case=case, grade=Grade.ORDINARY).status == OrderStatus.SUPERSEDED
    red = SupervisionOrder.objects.get(case=case, grade=Grade.RED)
    assert (red.status, red.unit_id, red.person_id) == (
        OrderStatus.OPEN,
        units.police.pk,
        cast.department_user.pk,
    )
    assert InboxItem.objects.filter(user=cast.department_user, key=f"order:{red.pk}").count() == 1

    # A duplicate delivery of the same sweep changes nothing.
    before = (SupervisionOrder.objects.count(), InboxItem.objects.count())
    tasks.deadline_check.delay(cast.ruian.pk, at=carded.isoformat())
    tasks.deadline_check.delay(cast.ruian.pk, at=carded.isoformat())
    marker = tasks.deadline_sweep.delay(at=carded.isoformat())
    assert marker.id
    time.sleep(2)
    assert (SupervisionOrder.objects.count(), InboxItem.objects.count()) == before
