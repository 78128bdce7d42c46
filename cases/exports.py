"""The case list as .xlsx: the columns of the list, the parties' names, never a phone or ID number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.registry.importing import export_workbook

from .models import Case

CHUNK = 1000


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def case_workbook(qs: QuerySet[Case]) -> bytes:
    """A write-only workbook of the (already scoped, filtered and capped) cases, row by row."""
    headers = [
        _("Number"), _("Title"), _("Kind"), _("Sub-kind"), _("Severity"), _("Source"), _("Status"),
        _("Tier"), _("Grid"), _("Responsible unit"), _("Responsible person"), _("Recorded at"), _("Due"),
        _("Closed at"), _("Parties"),
    ]  # fmt: skip

    def rows() -> Iterator[list[Any]]:
        for c in qs.iterator(chunk_size=CHUNK):
            yield [
                c.number,
                c.title,
                c.get_kind_display(),
                c.get_sub_kind_display(),
                c.get_severity_display(),
                c.get_source_display(),
                c.get_status_display(),
                c.get_tier_display(),
                c.node.name,
                c.responsible_unit.name if c.responsible_unit else "",
                str(c.responsible_person) if c.responsible_person else "",
                _when(c.created_at),
                _when(c.due_at),
                _when(c.closed_at),
                c.party_names,
            ]

    return export_workbook(headers, rows(), str(_("Cases")))
