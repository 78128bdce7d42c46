"""PostgreSQL only: one phone submitting the survey from two tabs at once gets one answer written; the
unique constraint on (survey, device hash) decides, not a check before the write."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from reports import survey as surveys
from reports.survey_models import SurveyLink, SurveyResponse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_phone_answering_twice_at_once_is_written_once(cast):
    today = timezone.localdate()
    item = surveys.survey_create(
        actor=cast.city_admin, tenant=cast.ruian, title="并发测评", period_start=today,
        period_end=today + dt.timedelta(days=1), questions=[{"text": "治安状况", "kind": "safety"}],
    )  # fmt: skip
    item = surveys.survey_open(actor=cast.city_admin, survey=item)
    link = SurveyLink.objects.select_related("survey").get(survey=item, node=cast.cell_a1)
    question = surveys.questions_of(item)[0]
    n = 4
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            form = surveys.form_token(link, now=time.time() - 30)
            barrier.wait()
            results[i] = surveys.response_submit(
                link=link, device="the-same-phone-" * 3, form=form, honeypot="",
                answers={f"q{question.pk}": "4"}, address=None,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = [r for r in results if isinstance(r, SurveyResponse)]
    refused = [r for r in results if isinstance(r, surveys.SurveyRefused)]
    assert len(written) == 1 and len(refused) == n - 1, results
    assert all(r.status == 409 for r in refused)
    assert SurveyResponse.objects.filter(survey=item).count() == 1
