"""Each person's inbox, and the outbox of deliveries to outside channels (e-mail, SMS).

Rows only. Every app adds items through `teams.inbox.deliver` / `deliver_many`, never by writing rows:
a unique key per recipient makes a retried delivery a no-op.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboxItem(models.Model):
    """One thing a person should look at: a case sent to them, a reminder, a supervision order ..."""

    # No single-column index on either (each is one more entry per item the scan writes by the
    # thousand): the user leads the indexes below; nothing reads items by tenant alone.
    # The tenant is the recipient's (deliveries only reach users of the city): not checked again at
    # commit (decision 1002).
    tenant = models.ForeignKey(
        "grids.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tenant"),
        db_index=False,
        db_constraint=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="inbox",
        verbose_name=_("recipient"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=32)
    subject = models.CharField(_("subject"), max_length=200)
    url = models.CharField(_("link"), max_length=300, blank=True)
    about_type = models.CharField(_("about (model)"), max_length=64, blank=True)
    about_id = models.BigIntegerField(_("about (id)"), null=True, blank=True)
    key = models.CharField(_("delivery key"), max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="teams_inbox_once_per_key")]
        indexes = [
            models.Index(F("user"), F("created_at").desc(), F("id").desc(), name="teams_inbox_by_user"),
            # The header's unread count: one index-only count over this person's unread rows.
            models.Index(fields=["user"], name="teams_inbox_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")


class CityChannel(models.Model):
    """A channel a city sends inbox items through besides the inbox (blank kinds: every kind)."""

    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kinds = models.CharField(
        _("kinds"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated kinds of item to send, e.g. supervision_order; blank for every kind."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("delivery channel")
        verbose_name_plural = _("delivery channels")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "channel"], name="teams_channel_one_per_city")
        ]

    def __str__(self) -> str:
        return self.get_channel_display()


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class Delivery(models.Model):
    """The outbox: one inbox item to send through one channel, exactly one row per (item, channel)."""

    tenant = models.ForeignKey(
        "grids.Tenant", on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant")
    )
    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["item", "channel"], name="teams_delivery_once")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="teams_delivery_due", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.item_id}"

    @property
    def key(self) -> str:
        """The idempotency key handed to the channel (Message-ID, SMS request id)."""
        return f"ruian-{self.tenant_id}-{self.item_id}-{self.channel}"
