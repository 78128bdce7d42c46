"""Delivery channels besides the inbox. Pluggable: settings name the class of each channel.

    TEAMS_CHANNELS = {"email": "teams.channels.EmailChannel", "sms": "teams.channels.LoggingSMSChannel"}

E-mail goes through Django's e-mail backend (EMAIL_BACKEND), so any SMTP or provider backend works.
An SMS provider implements `SMSBackend.send`; the demo's `LoggingSMSChannel` only logs that a message
would go out (the recipient's id and the key, never a phone number). Each send carries the outbox
row's key, which a provider can use to drop a duplicate after a worker died between sending and
recording the send.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from .inbox_models import InboxItem

log = logging.getLogger(__name__)


class ChannelError(Exception):
    """A send failed in a way worth retrying later (the provider is down, refused, timed out)."""


class ChannelBackend(Protocol):
    def send(self, *, item: InboxItem, key: str) -> None: ...


class EmailChannel:
    def send(self, *, item: InboxItem, key: str) -> None:
        address = item.user.email
        if not address:
            raise ChannelError("no e-mail address")
        message = EmailMessage(
            subject=item.subject,
            body=f"{item.subject}\n\n{settings.SITE_URL.rstrip('/')}{item.url}" if item.url else item.subject,
            to=[address],
            headers={"Message-ID": f"<{key}@ruian-grid>"},
        )
        try:
            message.send()
        except OSError as exc:  # SMTP and socket errors
            raise ChannelError(str(exc)[:200]) from exc


class SMSBackend:
    """The interface an SMS provider implements: send `text` to the user's phone, once per `key`."""

    def send_text(self, *, user_id: int, text: str, key: str) -> None:
        raise NotImplementedError

    def send(self, *, item: InboxItem, key: str) -> None:
        self.send_text(user_id=item.user_id, text=item.subject[:70], key=key)


class LoggingSMSChannel(SMSBackend):
    """The demo's SMS channel: logs that a text would go out."""

    def send_text(self, *, user_id: int, text: str, key: str) -> None:
        log.info("sms to user %s: key %s, %s characters", user_id, key, len(text))


def backend(channel: str) -> ChannelBackend:
    return import_string(settings.TEAMS_CHANNELS[channel])()
