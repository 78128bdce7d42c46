"""List filters shared by the API, the pages and the exports (so an export carries the list's filters).

They narrow an already scoped queryset; they never decide access. Personal numbers are not filters
(they would travel in URLs): number search is a POST (`selectors.search_residents`).
"""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids import selectors as grid_selectors
from grids.models import Level
from grids.widgets import GridNamePicker
from ruian_grid.inputs import IdFilter
from ruian_grid.widgets import PlainNumberInput, PlainSelect, PlainTextInput

from .models import (
    AgeBand,
    Building,
    BuildingKind,
    Dwelling,
    Establishment,
    EstablishmentKind,
    Household,
    PersonalDataAccess,
    PopulationType,
    Resident,
    Sex,
    Status,
    Tag,
    age_band_filter,
)


class _GridFilters(df.FilterSet):
    """Plot, cell and township are named (name or division code), never internal ids; a name matching
    no grid in the user's view, or several, matches no rows."""

    plot = df.CharFilter(
        method="filter_grid", max_length=100, label=_("plot"), widget=GridNamePicker(levels=(Level.PLOT,))
    )
    cell = df.CharFilter(
        method="filter_grid", max_length=100, label=_("cell"), widget=GridNamePicker(levels=(Level.CELL,))
    )
    township = df.CharFilter(
        method="filter_grid",
        max_length=100,
        label=_("township"),
        widget=GridNamePicker(levels=(Level.TOWNSHIP,)),
    )
    status = df.ChoiceFilter(choices=Status.choices, label=_("status"))

    LEVELS = {"plot": Level.PLOT, "cell": Level.CELL, "township": Level.TOWNSHIP}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Selects and text inputs drawn in Python (ruian_grid/widgets.py: the same HTML without a
        # template per input and per option); each filter set has its own copies of the filters.
        for f in self.filters.values():
            if "widget" in f.extra:
                continue
            if isinstance(f, df.ChoiceFilter | df.TypedChoiceFilter):
                f.extra["widget"] = PlainSelect
            elif isinstance(f, df.CharFilter):
                f.extra["widget"] = PlainTextInput
            elif isinstance(f, df.NumberFilter):
                f.extra["widget"] = PlainNumberInput

    def filter_grid(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value:
            return qs
        user = getattr(self.request, "user", None)
        node = (
            grid_selectors.node_by_label(actor=user, text=value, levels=(self.LEVELS[name],))
            if user
            else None
        )
        return qs.filter(**{f"{name}_id": node.pk}) if node is not None else qs.none()


class HouseholdFilter(_GridFilters):
    # A blank first choice: without it the browser selects the first tag and every search is
    # silently limited to that tag.
    tag = df.TypedChoiceFilter(
        choices=[("", _("any tag")), *Tag.choices],
        coerce=int,
        method="filter_tag",
        label=_("tag"),
    )
    q = df.CharFilter(method="filter_q", label=_("number or address"))

    class Meta:
        model = Household
        fields = ["plot", "cell", "township", "status", "tag", "q"]

    def filter_tag(self, qs: QuerySet[Household], name: str, value: int) -> QuerySet[Household]:
        return qs.alias(_tag=F("tags").bitand(value)).filter(_tag=value) if value else qs

    def filter_q(self, qs: QuerySet[Household], name: str, value: str) -> QuerySet[Household]:
        return qs.filter(Q(number__icontains=value) | Q(address__icontains=value)) if value else qs


class ResidentFilter(_GridFilters):
    household = IdFilter(field_name="household_id", label=_("household"))
    population_type = df.ChoiceFilter(choices=PopulationType.choices, label=_("population type"))
    sex = df.ChoiceFilter(choices=Sex.choices, label=_("sex"))
    age_band = df.ChoiceFilter(choices=AgeBand.choices, method="filter_age_band", label=_("age band"))
    name = df.CharFilter(field_name="name", lookup_expr="icontains", label=pgettext_lazy("person", "name"))

    class Meta:
        model = Resident
        fields = [
            "plot",
            "cell",
            "township",
            "status",
            "household",
            "population_type",
            "sex",
            "age_band",
            "name",
        ]

    def filter_age_band(self, qs: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        return qs.filter(age_band_filter(value)) if value else qs


class BuildingFilter(_GridFilters):
    kind = df.ChoiceFilter(choices=BuildingKind.choices, label=_("kind"))
    q = df.CharFilter(method="filter_q", label=_("code or name"))

    class Meta:
        model = Building
        fields = ["plot", "cell", "township", "status", "kind", "q"]

    def filter_q(self, qs: QuerySet[Building], name: str, value: str) -> QuerySet[Building]:
        return qs.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else qs


class DwellingFilter(_GridFilters):
    building = IdFilter(field_name="building_id", label=_("building"))

    class Meta:
        model = Dwelling
        fields = ["plot", "cell", "township", "status", "building"]


class EstablishmentFilter(_GridFilters):
    kind = df.ChoiceFilter(choices=EstablishmentKind.choices, label=_("kind"))
    q = df.CharFilter(method="filter_q", label=_("name, code or address"))

    class Meta:
        model = Establishment
        fields = ["plot", "cell", "township", "status", "kind", "q"]

    def filter_q(self, qs: QuerySet[Establishment], name: str, value: str) -> QuerySet[Establishment]:
        if not value:
            return qs
        return qs.filter(
            Q(name__icontains=value) | Q(credit_code__iexact=value) | Q(address__icontains=value)
        )


class AccessLogFilter(df.FilterSet):
    actor = IdFilter(field_name="actor_id", label=_("who"))
    resident = IdFilter(field_name="resident_id", label=_("whose"))
    since = df.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("from"))
    until = df.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("to"))

    class Meta:
        model = PersonalDataAccess
        fields = ["actor", "resident", "since", "until"]
