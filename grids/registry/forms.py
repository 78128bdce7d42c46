"""Page forms. Choices of plots and households come from selectors, so a form never offers (or
accepts) a row outside the user's scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.models import Level
from grids.widgets import GridPicker, PositionFields

from . import selectors
from .models import (
    BuildingKind,
    DwellingUse,
    EstablishmentKind,
    IdType,
    ImportKind,
    PopulationType,
    Relation,
    Tag,
    tags_mask,
    tags_of,
)


class PlotChoiceField(forms.ModelChoiceField):
    """A plot in the user's `manage_registry` scope, picked by name or code (not a dropdown of all)."""

    widget = GridPicker(perm="manage_registry", levels=(Level.PLOT,))

    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name if obj.parent_id and obj.parent else ""
        return f"{parent} · {obj.name}" if parent else obj.name


def _plots(user: Any) -> Any:
    return selectors.plots_for(user, selectors.MANAGE)


class HouseholdForm(PositionFields):
    plot = PlotChoiceField(queryset=None, label=_("plot"))
    number = forms.CharField(max_length=32, label=_("household number"))
    address = forms.CharField(max_length=200, required=False, label=_("address"))
    building_code = forms.CharField(max_length=40, required=False, label=_("building code"))
    room = forms.CharField(max_length=40, required=False, label=_("room number"))
    tags = forms.TypedMultipleChoiceField(
        choices=Tag.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label=_("tags")
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["plot"].queryset = _plots(user)
        if editing:
            del self.fields["plot"]
            del self.fields["number"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        code, room = data.get("building_code", "").strip(), data.get("room", "").strip()
        data["dwelling"] = None
        if code or room:
            if not (code and room):
                raise forms.ValidationError(_("Give both the building code and the room number, or neither."))
            found = (
                selectors.dwellings_for(self.user, selectors.MANAGE)
                .filter(building__code=code, number=room)
                .first()
            )
            if found is None:
                self.add_error("room", _("No such dwelling in your grid."))
            data["dwelling"] = found
        data["tags"] = tags_mask(data.get("tags") or [])
        return data

    @staticmethod
    def initial_for(household: Any) -> dict[str, Any]:
        d = household.dwelling
        return {
            "address": household.address,
            "tags": [int(t) for t in tags_of(household.tags)],
            "building_code": d.building.code if d else "",
            "room": d.number if d else "",
            "latitude": household.latitude,
            "longitude": household.longitude,
        }


class ResidentForm(forms.Form):
    name = forms.CharField(max_length=50, label=pgettext_lazy("person", "name"))
    id_type = forms.ChoiceField(choices=IdType.choices, initial=IdType.RESIDENT_ID, label=_("document type"))
    id_number = forms.CharField(
        max_length=30,
        label=_("ID number"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
        help_text=_("Birth date and sex are read from the ID number."),
    )
    phone = forms.CharField(
        max_length=20,
        required=False,
        label=_("mobile phone"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    population_type = forms.ChoiceField(choices=PopulationType.choices, label=_("population type"))
    relation = forms.ChoiceField(
        choices=Relation.choices, initial=Relation.OTHER, label=_("relation to head")
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("Leave empty to keep the stored number.")
            self.fields["phone"].help_text = _(
                "Leave empty to keep the stored number; enter a new one to replace it."
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=200, label=_("reason"), widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class MoveHouseholdForm(forms.Form):
    plot = PlotChoiceField(queryset=None, label=_("new plot"))
    reason = forms.CharField(max_length=200, required=False, label=_("reason"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["plot"].queryset = _plots(user)


class MoveResidentForm(forms.Form):
    household_number = forms.CharField(max_length=32, label=_("new household number"))
    reason = forms.CharField(max_length=200, required=False, label=_("reason"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_household_number(self) -> Any:
        number = self.cleaned_data["household_number"].strip()
        household = selectors.households_for(self.user, selectors.MANAGE).filter(number=number).first()
        if household is None:
            raise forms.ValidationError(_("No such household in your grid."))
        return household


class SearchForm(forms.Form):
    q = forms.CharField(
        max_length=60,
        label=_("name, address, phone or ID number"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )


class BuildingForm(forms.Form):
    plot = PlotChoiceField(queryset=None, label=_("plot"))
    code = forms.CharField(max_length=40, label=_("building code"))
    name = forms.CharField(max_length=200, label=_("name or address"))
    kind = forms.ChoiceField(choices=BuildingKind.choices, label=_("kind"))
    floors = forms.IntegerField(min_value=1, max_value=199, required=False, label=_("floors"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["plot"].queryset = _plots(user)


class DwellingForm(forms.Form):
    number = forms.CharField(max_length=40, label=_("room number"))
    use = forms.ChoiceField(choices=DwellingUse.choices, label=_("use"))


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label=_("what the file holds"))
    file = forms.FileField(
        label=_("workbook (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"})
    )


class EstablishmentForm(forms.Form):
    plot = PlotChoiceField(queryset=None, label=_("plot"))
    credit_code = forms.CharField(max_length=30, label=_("unified social credit code"))
    name = forms.CharField(max_length=200, label=_("name"))
    kind = forms.ChoiceField(choices=EstablishmentKind.choices, label=_("kind"))
    address = forms.CharField(max_length=200, required=False, label=_("address"))
    staff_count = forms.IntegerField(min_value=0, required=False, label=_("staff"))
    contact_name = forms.CharField(max_length=50, required=False, label=_("contact person"))
    contact_phone = forms.CharField(
        max_length=20,
        required=False,
        label=_("contact phone"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["plot"].queryset = _plots(user)
