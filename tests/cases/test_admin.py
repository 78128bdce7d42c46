"""/admin/ for cases: the city edits time limits and the calendar; the timeline is read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import CalendarDay, TimePolicy

pytestmark = pytest.mark.django_db


def admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_township_admin_cannot_add_a_city_time_limit(cast, units):
    data = {
        "step": "handling",
        "kind": "",
        "severity": "",
        "tier": "",
        "limit": 3,
        "unit": "days",
        "yellow_percent": 80,
        "red_percent": 100,
    }
    response = admin(cast.township_a_admin).post("/admin/cases/timepolicy/add/", data)
    assert response.status_code == 403 and not TimePolicy.objects.exists()
    response = admin(cast.city_admin).post("/admin/cases/timepolicy/add/", data)
    assert response.status_code == 302
    assert TimePolicy.objects.get().tenant == cast.ruian


def test_other_city_does_not_see_our_calendar(cast, units):
    CalendarDay.objects.create(tenant=cast.ruian, date="2026-10-10", is_working=True, name="国庆调休")
    assert "国庆调休" not in admin(cast.other_tenant_admin).get("/admin/cases/calendarday/").content.decode()
    assert "国庆调休" in admin(cast.city_admin).get("/admin/cases/calendarday/").content.decode()


def test_case_admin_is_read_only_and_scoped(cast, units, case_a1):
    client = admin(cast.township_a_admin)
    assert client.get(f"/admin/cases/case/{case_a1.pk}/change/").status_code == 200
    assert client.post(f"/admin/cases/case/{case_a1.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin(cast.other_tenant_admin).get(f"/admin/cases/case/{case_a1.pk}/change/").status_code in (
        302,
        404,
    )
    assert case_a1.events.count() == 1


def test_duplicate_calendar_day_is_a_form_error_not_a_crash(cast, units):
    CalendarDay.objects.create(tenant=cast.ruian, date="2026-10-10", is_working=True, name="国庆调休")
    data = {"date": "2026-10-10", "is_working": "", "name": "again"}
    response = admin(cast.city_admin).post("/admin/cases/calendarday/add/", data)
    assert response.status_code == 200 and CalendarDay.objects.count() == 1
    data["date"] = "2026-10-11"
    assert admin(cast.city_admin).post("/admin/cases/calendarday/add/", data).status_code == 302
