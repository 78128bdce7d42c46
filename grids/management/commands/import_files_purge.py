"""`manage.py import_files_purge [--days N]`: delete old refused-row files, close stuck imports."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grids.registry import services


class Command(BaseCommand):
    help = "Delete refused-row files older than N days (default 7) and close imports stuck for a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Imports changed: {services.import_files_purge(days=options['days'])}")
