"""The columns of each list's .xlsx export. Numbers are exported masked, as the lists show them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .importing import export_workbook
from .models import AgeBand, Building, Dwelling, Establishment, Household, Resident, tags_of

CHUNK = 2000


def _label(enum: Any, value: str) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return value


def _households(qs: QuerySet[Household]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        _("plot"),
        _("household number"),
        _("address"),
        _("building"),
        _("room number"),
        _("tags"),
        _("residents"),
        _("status"),
    ]

    def rows() -> Iterator[list[Any]]:
        for h in qs.iterator(chunk_size=CHUNK):
            d = h.dwelling
            yield [
                h.plot.name,
                h.number,
                h.address,
                d.building.code if d else "",
                d.number if d else "",
                "、".join(str(t.label) for t in tags_of(h.tags)),
                h.resident_count,
                h.get_status_display(),
            ]

    return headers, rows()


def _residents(qs: QuerySet[Resident]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        _("plot"), _("household number"), pgettext("person", "name"), _("document type"), _("ID number"), _("sex"), _("birth year"),
        _("age band"), _("population type"), _("relation to head"), _("phone"), _("status"),
    ]  # fmt: skip

    def rows() -> Iterator[list[Any]]:
        for r in qs.iterator(chunk_size=CHUNK):
            yield [
                r.plot.name,
                r.household.number,
                r.name,
                r.get_id_type_display(),
                r.id_number_masked,
                r.get_sex_display(),
                r.birth_year,
                _label(AgeBand, r.age_band) if r.age_band else "",
                r.get_population_type_display(),
                r.get_relation_display(),
                r.phone_masked,
                r.get_status_display(),
            ]

    return headers, rows()


def _buildings(qs: QuerySet[Building]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [_("plot"), _("building code"), _("name or address"), _("kind"), _("floors"), _("status")]
    return headers, (
        [b.plot.name, b.code, b.name, b.get_kind_display(), b.floors, b.get_status_display()]
        for b in qs.iterator(chunk_size=CHUNK)
    )


def _dwellings(qs: QuerySet[Dwelling]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [_("plot"), _("building code"), _("room number"), _("use"), _("status")]
    return headers, (
        [d.plot.name, d.building.code, d.number, d.get_use_display(), d.get_status_display()]
        for d in qs.iterator(chunk_size=CHUNK)
    )


def _establishments(qs: QuerySet[Establishment]) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        _("plot"), _("unified social credit code"), _("name"), _("kind"), _("address"), _("building"), _("staff"),
        _("contact person"), _("contact phone"), _("status"),
    ]  # fmt: skip
    return headers, (
        [
            o.plot.name,
            o.credit_code,
            o.name,
            o.get_kind_display(),
            o.address,
            o.building.code if o.building else "",
            o.staff_count,
            o.contact_name,
            o.contact_phone_masked,
            o.get_status_display(),
        ]  # fmt: skip
        for o in qs.iterator(chunk_size=CHUNK)
    )


EXPORTS: dict[str, tuple[Callable[[Any], tuple[list[str], Iterable[list[Any]]]], str]] = {
    "households": (_households, "households"),
    "residents": (_residents, "residents"),
    "buildings": (_buildings, "buildings"),
    "dwellings": (_dwellings, "dwellings"),
    "establishments": (_establishments, "establishments"),
}


def export_xlsx(kind: str, qs: QuerySet[Any]) -> bytes:
    """The whole filtered list as .xlsx: one query (plus the chunked reads of a long list)."""
    build, title = EXPORTS[kind]
    headers, rows = build(qs)
    return export_workbook(headers, rows, _(title))


def export_filename(kind: str) -> str:
    from django.utils import timezone

    return f"{kind}-{timezone.localdate():%Y%m%d}.xlsx"
