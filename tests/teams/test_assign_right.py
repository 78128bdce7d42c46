"""A township user assigns plots (issue 9): township staff hold `assign_plots` in their township,
checked through the grid scoping; village members and other townships do not."""

from __future__ import annotations

import pytest

from teams.models import PlotAssignment

pytestmark = pytest.mark.django_db


def test_township_staff_assign_a_plot_in_their_township_only(cast, field, client):
    body = {"plot": cast.plot_a2.pk, "member": field.teammate.pk, "duties": "走访、调解"}
    client.force_login(cast.village_member)  # sees the plot, may not assign it
    response = client.post("/api/v1/assignments/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == ["您无权为此片格指定人员。"]
    client.force_login(cast.township_b_staff)  # another township: the plot is not there at all
    assert client.post("/api/v1/assignments/", body, content_type="application/json").status_code == 404
    assert not PlotAssignment.objects.filter(plot=cast.plot_a2).exists()
    client.force_login(cast.township_a_staff)
    response = client.post("/api/v1/assignments/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert PlotAssignment.objects.get(plot=cast.plot_a2, ended_at=None).member_id == field.teammate.pk


def test_the_assignment_page_offers_the_form_to_township_staff(cast, field, client):
    client.force_login(cast.township_a_staff)
    response = client.get(f"/teams/plots/{cast.plot_a2.pk}/assign/")
    assert response.status_code == 200 and response.context["may_assign"] is True
    response = client.post(f"/teams/plots/{cast.plot_a2.pk}/assign/", {"member": field.teammate.pk})
    assert response.status_code == 302
    assert PlotAssignment.objects.get(plot=cast.plot_a2, ended_at=None).member_id == field.teammate.pk
    client.force_login(cast.village_member)
    assert client.get(f"/teams/plots/{cast.plot_a2.pk}/assign/").context["may_assign"] is False
