"""Visits: stored exactly once per client id, refused with a reason in Chinese, nothing stored."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from grids.models import Household
from grids.registry.models import Tag
from teams import selectors, services
from teams.models import Visit, VisitPhoto

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (30, 120, 30)).save(out, format=fmt, **save)
    return out.getvalue()


PNG = image_bytes("PNG")


def _post(client, field, household=None, **extra):
    body = {
        "client_id": str(extra.pop("client_id", uuid.uuid4())),
        "household": (household or field.mine[0]).pk,
        "visited_on": extra.pop("visited_on", timezone.localdate().isoformat()),
        "seen": "院子整洁",
        "heard": "老人说一切都好",
        "outcome": "routine",
        **extra,
    }
    return client.post("/api/v1/visits/", body)


def test_a_visit_sent_twice_is_stored_once(cast, field, client):
    client.force_login(field.member)
    key = uuid.uuid4()
    first = _post(client, field, client_id=key)
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "stored"
    again = _post(client, field, client_id=key)
    assert again.status_code == 200
    assert again.json()["status"] == "already_stored"
    assert again.json()["message"] == "这次走访已经保存过了。"
    assert again.json()["id"] == first.json()["id"]
    assert Visit.objects.filter(client_id=key).count() == 1
    visit = Visit.objects.get(client_id=key)
    assert visit.assignment == field.assignment
    assert (visit.township_id, visit.cell_id, visit.plot_id) == (
        cast.township_a.pk,
        cast.cell_a1.pk,
        cast.plot_a1.pk,
    )


@pytest.mark.parametrize("which", ["elsewhere", "linbei"])
def test_a_household_outside_the_members_plots_is_refused(cast, field, client, which):
    client.force_login(field.member)
    response = _post(client, field, household=getattr(field, which))
    assert response.status_code == 400
    assert response.json() == {"household": ["该户不在您负责的片格内。"]}
    assert not Visit.objects.exists()


def test_another_citys_household_is_refused_the_same_way(cast, field, client):
    from grids.registry import services as registry

    far = registry.household_create(actor=cast.other_tenant_admin, plot=cast.other_plot, number="P-1")
    client.force_login(field.member)
    response = _post(client, field, household=far)
    assert response.json() == {"household": ["该户不在您负责的片格内。"]}
    assert not Visit.objects.exists()


def test_a_visit_dated_in_the_future_is_refused(cast, field, client):
    client.force_login(field.member)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = _post(client, field, visited_on=tomorrow)
    assert response.status_code == 400
    assert response.json() == {"visited_on": ["走访日期不能晚于今天。"]}
    assert not Visit.objects.exists()


def test_a_visit_before_the_household_existed_is_refused(cast, field, client):
    client.force_login(field.member)
    before = (field.mine[0].created_at - dt.timedelta(days=2)).date().isoformat()
    response = _post(client, field, visited_on=before)
    assert response.status_code == 400
    assert response.json() == {"visited_on": ["走访日期早于该户的登记日期。"]}
    assert not Visit.objects.exists()


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_stored(cast, field, client):
    client.force_login(field.member)
    fake = SimpleUploadedFile("照片.jpg", b"%PDF-1.7 not an image", content_type="image/jpeg")
    response = _post(client, field, photos=[fake])
    assert response.status_code == 400
    assert response.json() == {"photos": ["照片.jpg 不是照片：只接受 JPEG、PNG、GIF 或 WebP 图片。"]}
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


def test_a_visit_with_a_photo_and_a_tag_change_through_the_registry(cast, field, client):
    client.force_login(field.member)
    photo = SimpleUploadedFile("门口.png", PNG, content_type="image/png")
    household = field.mine[1]
    response = _post(client, field, household=household, photos=[photo], tags=int(Tag.DISPUTE))
    assert response.status_code == 201, response.json()
    visit = Visit.objects.get()
    assert visit.photos.get().content_type == "image/png"
    assert visit.record_note == "户标签已变更"
    household.refresh_from_db()
    assert household.tags == int(Tag.DISPUTE)
    assert household.history.first().history_user_id == field.member.pk


def test_a_visit_photo_is_re_encoded_without_its_metadata(cast, field, client):
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker-Secret"  # Make
    jpeg = image_bytes("JPEG", exif=exif.tobytes())
    assert b"CameraMaker-Secret" in jpeg
    client.force_login(field.member)
    response = _post(client, field, photos=[SimpleUploadedFile("门口.jpg", jpeg, content_type="image/jpeg")])
    assert response.status_code == 201, response.json()
    photo = VisitPhoto.objects.get()
    stored = photo.file.read()
    assert stored.startswith(b"\xff\xd8") and b"CameraMaker-Secret" not in stored
    assert photo.size == len(stored) and photo.content_type == "image/jpeg"


def test_a_photo_with_an_image_header_that_does_not_decode_is_refused(cast, field, client):
    client.force_login(field.member)
    broken = SimpleUploadedFile("坏图.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    response = _post(client, field, photos=[broken])
    assert response.status_code == 400
    assert response.json() == {"photos": ["坏图.png: 该文件不是可读取的图片（JPEG、PNG、GIF 或 WebP）。"]}
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


def test_visits_are_listed_in_scope_only(cast, field, client):
    client.force_login(field.member)
    _post(client, field)
    client.force_login(cast.township_b_staff)
    assert client.get("/api/v1/visits/").json()["results"] == []
    client.force_login(cast.township_a_staff)
    assert len(client.get("/api/v1/visits/").json()["results"]) == 1


def _visit(field, household, days_ago):
    return services.visit_record(
        actor=field.member,
        client_id=uuid.uuid4(),
        household_id=household.pk,
        visited_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )[0]


def test_due_households_follow_the_cadence_and_the_last_visit(cast, field):
    elderly, plain, never = field.mine
    _visit(field, elderly, 40)  # elderly alone: every 30 days -> due
    _visit(field, plain, 40)  # every household: every 90 days -> not due
    due = selectors.my_due_households(actor=field.member)
    assert [h.pk for h in due] == [never.pk, elderly.pk]  # never visited first
    _visit(field, elderly, 0)
    assert [h.pk for h in selectors.my_due_households(actor=field.member)] == [never.pk]
    [plot] = selectors.my_assignments(actor=field.member)
    assert (plot.household_count, plot.due_count) == (3, 1)
    assert plot.visited_this_month == 1  # 40 days ago is always an earlier month


def _more_households(cast, n):
    from grids.registry import services as registry

    made = [
        registry.household_create(actor=cast.city_admin, plot=cast.plot_a1, number=f"X{i}") for i in range(n)
    ]
    Household.objects.filter(pk__in=[h.pk for h in made]).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    return made


@pytest.mark.parametrize("extra", [0, 25])
def test_my_plots_runs_a_constant_number_of_queries(
    cast, field, client, extra, django_assert_max_num_queries
):
    for household in _more_households(cast, extra):
        _visit(field, household, 5)
    client.force_login(field.member)
    client.get("/api/v1/visit-cadences/")  # warm the session
    # user (the session comes from the cache); cadences; the plots with their three counts; cadences
    # again and the due list.
    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/teams/my-plots/").json()
    assert body["plots"][0]["households"] == 3 + extra


def test_city_sets_the_cadence_township_cannot(cast, field, client):
    client.force_login(cast.township_a_admin)
    body = {"tag": int(Tag.DISPUTE), "interval_days": 14}
    response = client.post("/api/v1/visit-cadences/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == ["走访频次由市级设定。"]
    client.force_login(cast.city_admin)
    response = client.post("/api/v1/visit-cadences/", body, content_type="application/json")
    assert response.status_code == 201
    assert [c["interval_days"] for c in client.get("/api/v1/visit-cadences/").json()] == [14, 30, 90]
