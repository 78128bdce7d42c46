"""`manage.py outbox_relay`: publish the outbox rows the broker could not take (the periodic task does the
same every minute; this command serves when beat itself cannot reach the broker, e.g. from cron)."""

from typing import Any

from django.core.management.base import BaseCommand

from ruian_grid.outbox import services


class Command(BaseCommand):
    help = "Publish waiting outbox rows to the broker; rows already sent are left alone."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = services.relay()
        waiting = services.OutboxMessage.objects.filter(sent_at__isnull=True).count()
        self.stdout.write(f"Outbox: {sent} sent, {waiting} waiting.")
