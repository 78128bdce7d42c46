"""`manage.py sync_schedule`: write the periodic schedule (ruian_grid/beat.py) into django-celery-beat.

Entries already there are left as the administrator set them; a second run changes nothing.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from ruian_grid.beat import SCHEDULE


class Command(BaseCommand):
    help = "Create the periodic tasks of ruian_grid/beat.py that django-celery-beat does not hold yet."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        with transaction.atomic():
            for name, entry in SCHEDULE.items():
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    timezone="Asia/Shanghai", **entry["crontab"]
                )
                _, was_created = PeriodicTask.objects.get_or_create(
                    name=name,
                    defaults={
                        "task": entry["task"],
                        "crontab": crontab,
                        "kwargs": json.dumps(entry.get("kwargs", {})),
                    },
                )
                created += was_created
        self.stdout.write(f"Periodic tasks: {len(SCHEDULE)} in the schedule, {created} new.")
