"""The inbox: delivery once per key, the API (own items only), the header count, the outbox."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from teams import channels, delivery, inbox
from teams.inbox_models import CityChannel, Delivery, DeliveryStatus, InboxItem
from teams.models import Unit
from teams.services import membership_add, unit_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(cast) -> Unit:
    unit = unit_create(
        actor=None,
        tenant_id=cast.ruian.pk,
        kind="township_office",
        code="o",
        name="上望",
        node=cast.township_a,
    )
    membership_add(actor=None, unit=unit, user=cast.township_a_staff)
    membership_add(actor=None, unit=unit, user=cast.township_a_admin)
    return unit


def _send(cast, office, key="k1") -> int:
    return inbox.deliver(
        tenant_id=cast.ruian.pk,
        kind="meeting",
        recipients=[office, cast.township_a_staff, cast.other_tenant_admin],
        subject="联席会议通知",
        url="/cases/",
        about=("mechanisms.meeting", 7),
        key=key,
    )


def test_delivery_reaches_unit_members_once_and_a_retry_is_a_no_op(cast, office):
    assert _send(cast, office) == 2  # two members; the person named twice gets one; another city's none
    assert _send(cast, office) == 0
    assert InboxItem.objects.filter(key="k1").count() == 2
    assert not InboxItem.objects.filter(user=cast.other_tenant_admin).exists()


def test_inbox_api_lists_own_items_marks_read_one_and_all(cast, office, django_assert_max_num_queries):
    _send(cast, office, "a")
    _send(cast, office, "b")
    client = APIClient()
    client.force_authenticate(cast.township_a_staff)
    with django_assert_max_num_queries(1):  # the page of items (keyset, no COUNT)
        body = client.get("/api/v1/inbox/").json()
    assert [i["subject"] for i in body["results"]] == ["联席会议通知"] * 2
    first = body["results"][0]["id"]
    other = APIClient()
    other.force_authenticate(cast.township_b_staff)
    assert other.post(f"/api/v1/inbox/{first}/read/").status_code == 404  # not theirs: same as missing
    assert InboxItem.objects.get(pk=first).read_at is None
    assert client.post(f"/api/v1/inbox/{first}/read/").json()["read_at"] is not None
    assert client.get("/api/v1/inbox/unread/").json() == {"unread": 1}
    assert client.post("/api/v1/inbox/read-all/").json() == {"marked": 1}
    assert client.get("/api/v1/inbox/unread/").json() == {"unread": 0}
    assert InboxItem.objects.filter(user=cast.township_a_admin, read_at__isnull=True).count() == 2


def test_header_shows_the_unread_count_with_one_query(client, cast, office, django_assert_max_num_queries):
    _send(cast, office)
    client.force_login(cast.township_a_staff)
    response = client.get("/inbox/")
    assert response.status_code == 200
    assert "inbox-badge" in response.content.decode() and ">1</span>" in response.content.decode()
    from teams import selectors

    with django_assert_max_num_queries(1):  # COUNT over the partial index of unread items
        assert selectors.inbox_unread_count(cast.township_a_staff) == 1


class _Dies(channels.SMSBackend):
    """Sends one text, then the worker dies (the process is killed halfway through the outbox)."""

    sent: list[str] = []

    def send_text(self, *, user_id: int, text: str, key: str) -> None:
        if len(self.sent) == 1 and not getattr(_Dies, "revived", False):
            raise KeyboardInterrupt  # not an error the sender handles: the run stops here
        self.sent.append(key)


def test_outbox_killed_halfway_sends_each_once_after_the_retry(cast, office, settings):
    settings.TEAMS_CHANNELS = {**settings.TEAMS_CHANNELS, "sms": f"{__name__}._Dies"}
    CityChannel.objects.create(tenant=cast.ruian, channel="sms")
    _Dies.sent = []
    _send(cast, office)
    assert Delivery.objects.count() == 2
    with pytest.raises(KeyboardInterrupt):
        delivery.deliveries_send()
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 1
    _Dies.revived = True
    try:
        assert delivery.deliveries_send() == 1
        assert delivery.deliveries_send() == 0
    finally:
        _Dies.revived = False
    assert len(_Dies.sent) == 2 and len(set(_Dies.sent)) == 2
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 2


class _Down:
    def send(self, *, item, key):
        raise channels.ChannelError("smtp down")


def test_a_failing_channel_is_retried_later_without_blocking_the_other(cast, office, settings):
    settings.TEAMS_CHANNELS = {"email": f"{__name__}._Down", "sms": "teams.channels.LoggingSMSChannel"}
    CityChannel.objects.create(tenant=cast.ruian, channel="sms")
    CityChannel.objects.create(tenant=cast.ruian, channel="email")
    _send(cast, office)
    assert delivery.deliveries_send() == 2  # both texts went; both e-mails wait
    waiting = Delivery.objects.filter(channel="email")
    assert [(d.status, d.attempts) for d in waiting] == [(DeliveryStatus.PENDING, 1)] * 2
    assert delivery.deliveries_send() == 0  # not yet due again


def test_email_channel_uses_djangos_backend(cast, office):
    cast.township_a_staff.email = "li@example.invalid"
    cast.township_a_staff.save(update_fields=["email"])
    CityChannel.objects.create(tenant=cast.ruian, channel="email", kinds="meeting")
    _send(cast, office)
    delivery.deliveries_send()
    assert [m.to for m in mail.outbox] == [["li@example.invalid"]]
    # The member without an address: a failure recorded, retried later.
    assert Delivery.objects.get(item__user=cast.township_a_admin).last_error == "no e-mail address"


def test_channel_kinds_limit_what_is_sent(cast, office):
    CityChannel.objects.create(tenant=cast.ruian, channel="sms", kinds="supervision_order")
    _send(cast, office)
    assert not Delivery.objects.exists()
