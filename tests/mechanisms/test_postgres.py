"""PostgreSQL only: the scheduled jobs run twice at once write one review per node and month and one
draft per node, kind and week (the unique constraints decide, not a check-then-write)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections

from mechanisms import services, tasks
from mechanisms.models import DisputeReview, EarlyWarningDraft

from .conftest import at
from .test_early_warning import DAY, _series

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n: int, work) -> list[object]:
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


def test_opening_the_month_twice_at_once_opens_each_review_once(cast):
    now = at(2026, 6, 1, 0)
    results = _race(
        3, lambda i: services.reviews_open_month(tenant_id=cast.ruian.pk, month=dt.date(2026, 5, 1), now=now)
    )
    assert results == [3, 3, 3]
    assert DisputeReview.objects.count() == 3
    # The task, run again afterwards, changes nothing either.
    tasks.reviews_open_city(cast.ruian.pk)
    tasks.reviews_open_city(cast.ruian.pk)
    assert DisputeReview.objects.filter(month=dt.date(2026, 5, 1)).count() == 3


def test_the_nightly_scan_twice_at_once_writes_one_draft_per_node_kind_and_week(cast):
    _series(cast, [5] * 8 + [15], cast.plot_a1, cast.village_member)
    results = _race(
        2, lambda i: services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY, now=at(2026, 6, 1, 1 + i))
    )
    assert sorted(results) == [0, 2], results
    assert EarlyWarningDraft.objects.count() == 2
    assert services.early_warning_scan(tenant_id=cast.ruian.pk, day=DAY) == 0
