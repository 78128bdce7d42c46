"""`manage.py personal_data_rekey`: after a key rotation, re-encrypt stored numbers with the new key."""

from typing import Any

from django.core.management.base import BaseCommand

from grids.registry import services


class Command(BaseCommand):
    help = "Re-encrypt ID numbers and phones stored under an older key or cipher (safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Rows re-encrypted: {services.personal_data_rekey()}")
