"""`manage.py seed_demo [--scale sample|full]`: load the demo cities. Running it again changes nothing."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ruian_grid import demo


class Command(BaseCommand):
    help = "Load the Ruian demo city and a small second city (deterministic, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=["sample", "full"],
            default="sample",
            help="households for a sample of townships (default) or for all 38",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = demo.seed(full=options["scale"] == "full")
        took = time.monotonic() - started
        out = self.stdout
        out.write(self.style.SUCCESS(f"Demo loaded in {took:.1f}s."))
        if report.created_tenants:
            out.write(f"New cities: {', '.join(report.created_tenants)}; grid nodes created: {report.nodes}")
        out.write(
            f"Households added: {report.households_added}; residents added: {report.residents_added}; "
            f"units added: {report.units_added}; cases added: {report.cases_added}; "
            f"visits added: {report.visits_added}; boundaries added: {report.boundaries_added}; "
            f"past cases added: {report.history_added}; "
            f"assessment round published: {'yes' if report.round_published else 'already'}; "
            f"survey answers added: {report.survey_answers_added}"
        )
        out.write(f"Demo sign-ins (password: {demo.DEMO_PASSWORD}):")
        for username, role, home in report.users:
            out.write(f"  {username:<16} {role} — {home}")
