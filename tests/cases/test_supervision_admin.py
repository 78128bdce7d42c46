"""/admin/ for a city's working hours, supervision grading and delivery channels: its administrators
only, errors as form errors in Chinese, nothing written on a refusal."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import SupervisionPolicy, WorkingHours
from teams.models import CityChannel

pytestmark = pytest.mark.django_db

HOURS = {"start": "08:30", "end": "17:30", "lunch_start": "12:00", "lunch_end": "13:30"}
POLICY = {"yellow_after_hours": "8", "red_after_hours": "24", "reply_hours": "8"}


def admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("path", "data", "model"),
    [
        ("/admin/cases/workinghours/add/", HOURS, WorkingHours),
        ("/admin/cases/supervisionpolicy/add/", POLICY, SupervisionPolicy),
        (
            "/admin/teams/citychannel/add/",
            {"channel": "sms", "kinds": "supervision_order", "is_active": "on"},
            CityChannel,
        ),
    ],
)
def test_only_the_city_administrators_set_city_rules(cast, path, data, model):
    # A township administrator is staff but not the city's: refused; township staff never reach /admin/.
    assert admin(cast.township_a_admin).get(path.replace("add/", "")).status_code == 403
    assert admin(cast.township_a_admin).post(path, data).status_code == 403
    assert admin(cast.township_a_staff).post(path, data).status_code == 302  # to the sign-in page
    assert not model.objects.exists()
    assert admin(cast.city_admin).post(path, data).status_code == 302
    assert model.objects.get().tenant == cast.ruian


@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("/admin/cases/workinghours/{}/change/", lambda t: WorkingHours.objects.create(tenant=t)),
        ("/admin/cases/supervisionpolicy/{}/change/", lambda t: SupervisionPolicy.objects.create(tenant=t)),
        (
            "/admin/teams/citychannel/{}/change/",
            lambda t: CityChannel.objects.create(tenant=t, channel="email"),
        ),
    ],
)
def test_another_city_cannot_open_our_rules(cast, path, row):
    obj = row(cast.ruian)
    response = admin(cast.other_tenant_admin).get(path.format(obj.pk))
    assert response.status_code in (302, 403, 404)
    listing = admin(cast.other_tenant_admin).get(path.split("{}")[0])
    assert listing.status_code == 200 and f"/{obj.pk}/change/" not in listing.content.decode()
    assert f"/{obj.pk}/change/" in admin(cast.city_admin).get(path.split("{}")[0]).content.decode()
    assert admin(cast.city_admin).get(path.format(obj.pk)).status_code == 200


def test_a_working_day_ending_before_it_starts_is_a_chinese_form_error(cast):
    response = admin(cast.city_admin).post(
        "/admin/cases/workinghours/add/", {**HOURS, "start": "17:30", "end": "08:30"}
    )
    assert response.status_code == 200
    assert "工作日的结束时间必须晚于开始时间" in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_a_lunch_break_outside_the_day_is_a_chinese_form_error(cast):
    response = admin(cast.city_admin).post(
        "/admin/cases/workinghours/add/", {**HOURS, "lunch_start": "18:00", "lunch_end": "19:00"}
    )
    assert response.status_code == 200
    assert "午休须在工作时间之内" in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_thresholds_not_increasing_are_a_chinese_form_error(cast):
    response = admin(cast.city_admin).post(
        "/admin/cases/supervisionpolicy/add/", {**POLICY, "yellow_after_hours": "24", "red_after_hours": "8"}
    )
    assert response.status_code == 200
    assert "阈值必须递增" in response.content.decode()
    assert not SupervisionPolicy.objects.exists()


def test_a_second_row_for_the_city_is_a_form_error_not_a_crash(cast):
    SupervisionPolicy.objects.create(tenant=cast.ruian)
    response = admin(cast.city_admin).post("/admin/cases/supervisionpolicy/add/", POLICY)
    assert response.status_code == 200 and SupervisionPolicy.objects.count() == 1
    assert "本市已有这项设置" in response.content.decode()
