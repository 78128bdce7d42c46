"""One row per piece of work a committed change asked for, until the broker has taken it."""

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    # "<task name>:<id>": the same change never queues the same work twice.
    key = models.CharField(max_length=200)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)  # ids and plain values only, never personal data
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="outbox_message_key_unique")]
        indexes = [
            # The relay reads only what is still waiting, oldest first.
            models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="outbox_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({'sent' if self.sent_at else 'waiting'})"
