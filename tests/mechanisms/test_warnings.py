"""Warnings to a subtree: acknowledgement by every cell under it, who has not, expiry and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from mechanisms import selectors, services
from mechanisms.models import SecurityWarning, WarningAck

pytestmark = pytest.mark.django_db


def _publish(cast, node=None, **kw):
    now = timezone.now()
    values = {"level": "yellow", "title": "入室盗窃高发", "measures": "加强夜间巡防", "starts_at": now,
              "ends_at": now + dt.timedelta(days=7)}  # fmt: skip
    values.update(kw)
    return services.warning_publish(actor=cast.township_a_staff, node=node or cast.township_a, **values)


def test_every_cell_under_the_warning_is_expected_and_the_page_lists_who_has_not(cast, client):
    warning = _publish(cast)
    assert warning.cells_expected == 2
    services.warning_acknowledge(actor=cast.village_member, warning=warning, cell=cast.cell_a1)
    services.warning_acknowledge(actor=cast.village_member, warning=warning, cell=cast.cell_a1)  # once
    assert WarningAck.objects.filter(warning=warning).count() == 1
    missing = [c.name for c in selectors.warning_cells(warning) if not c.acked]
    assert missing == ["上望社区"]
    client.force_login(cast.township_a_staff)
    page = client.get(f"/mechanisms/warnings/{warning.pk}/").content.decode()
    assert "尚未签收" in page and "上望社区" in page


def test_a_cell_member_sees_the_township_warning_and_acknowledges_through_the_api(cast):
    warning = _publish(cast)
    client = APIClient()
    client.force_authenticate(cast.township_b_staff)
    assert client.get(f"/api/v1/mechanisms/warnings/{warning.pk}/").status_code == 404
    client.force_authenticate(cast.village_member)
    body = client.get(f"/api/v1/mechanisms/warnings/{warning.pk}/").json()
    assert body["not_acknowledged"] == [cast.cell_a1.pk, cast.cell_a2.pk]
    response = client.post(
        f"/api/v1/mechanisms/warnings/{warning.pk}/acknowledge/", {"cell": cast.cell_a1.pk}, format="json"
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/mechanisms/warnings/{warning.pk}/").json()["not_acknowledged"] == [
        cast.cell_a2.pk
    ]


def test_an_acknowledgement_from_outside_the_subtree_is_refused_in_chinese_and_nothing_written(cast):
    warning = _publish(cast, node=cast.cell_a1)
    client = APIClient()
    client.force_authenticate(cast.city_admin)
    response = client.post(
        f"/api/v1/mechanisms/warnings/{warning.pk}/acknowledge/", {"cell": cast.cell_b1.pk}, format="json"
    )
    assert response.status_code == 400 and "不在该预警的范围内" in response.json()["cell"][0]
    assert not WarningAck.objects.exists()
    # The village member cannot acknowledge for another cell of the same township either.
    wide = _publish(cast)
    with pytest.raises(ValidationError):
        services.warning_acknowledge(actor=cast.village_member, warning=wide, cell=cast.cell_a2)
    assert not WarningAck.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"node": None}, "node", "请选择预警的目标网格"),
        ({"ends_at": "start"}, "ends_at", "截止时间必须晚于开始时间"),
    ],
)
def test_a_warning_without_target_or_ending_before_it_starts_is_refused(cast, change, field, text):
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    start = timezone.now() + dt.timedelta(days=1)
    body = {"node": cast.township_a.pk, "level": "blue", "title": "提示", "measures": "注意防范",
            "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(days=1)).isoformat()}  # fmt: skip
    body.update(change)
    if body.get("ends_at") == "start":
        body["ends_at"] = (start - dt.timedelta(hours=1)).isoformat()
    response = client.post("/api/v1/mechanisms/warnings/", body, format="json")
    assert response.status_code == 400 and text in response.json()[field][0]
    assert not SecurityWarning.objects.exists()


def test_a_township_cannot_warn_another_township_then_the_city_can(cast):
    with pytest.raises(PermissionDenied):
        _publish(cast, node=cast.township_b)
    assert not SecurityWarning.objects.exists()
    now = timezone.now()
    services.warning_publish(
        actor=cast.city_admin, node=cast.township_b, level="red", title="t", measures="m",
        starts_at=now, ends_at=now + dt.timedelta(days=1),
    )  # fmt: skip
    assert SecurityWarning.objects.count() == 1


def test_expiry_and_the_chase_happen_once(cast):
    warning = _publish(cast)
    later = warning.published_at + services.ACK_CHASE_AFTER + dt.timedelta(minutes=1)
    assert services.warnings_sweep(tenant_id=cast.ruian.pk, now=later) == (0, 1)
    assert services.warnings_sweep(tenant_id=cast.ruian.pk, now=later) == (0, 0)
    end = warning.ends_at + dt.timedelta(minutes=1)
    assert services.warnings_sweep(tenant_id=cast.ruian.pk, now=end) == (1, 0)
    warning.refresh_from_db()
    assert warning.status == "expired"
    with pytest.raises(ValidationError):
        services.warning_acknowledge(actor=cast.village_member, warning=warning, cell=cast.cell_a1)
