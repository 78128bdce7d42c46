"""Page forms: they check the shape of the input; `cases.actions` and the services decide the rest."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from grids.widgets import GridNamePicker, GridPicker, PositionFields, ResidentPicker
from ruian_grid.inputs import IdFormField
from ruian_grid.widgets import (
    PlainCheckboxInput,
    PlainDateInput,
    PlainHiddenInput,
    PlainSelect,
    PlainTextInput,
)
from teams.models import User

from . import selectors
from .models import (
    DESCRIPTION_MAX,
    KIND_SUBKINDS,
    NOTE_MAX,
    Case,
    CaseKind,
    LimitUnit,
    Satisfaction,
    Severity,
    Source,
    Status,
    SubKind,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (the recipe of Django's documentation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*,.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


def camera_input() -> forms.ClearableFileInput:
    """On a phone this opens the back camera straight away."""
    return forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})


def kind_map_attrs() -> dict[str, str]:
    """The sub-kinds of each kind, for the page's script to narrow the sub-kind list to the kind."""
    return {
        "data-depends-on": "kind",
        "data-kind-map": json.dumps({str(k): [str(v) for v in subs] for k, subs in KIND_SUBKINDS.items()}),
    }


class CaseRecordForm(PositionFields):
    node = forms.ModelChoiceField(queryset=None, label=_("Grid"), widget=GridPicker(perm="record_case"))
    kind = forms.ChoiceField(choices=CaseKind.choices, label=_("Kind"))
    sub_kind = forms.ChoiceField(
        choices=SubKind.choices,
        label=_("Sub-kind"),
        initial=SubKind.OTHER,
        widget=forms.Select(attrs=kind_map_attrs()),
    )
    source = forms.ChoiceField(choices=Source.choices, label=_("Source"))
    source_ref = forms.CharField(max_length=64, required=False, label=_("Source reference"))
    severity = forms.ChoiceField(choices=Severity.choices, label=_("Severity"), initial=Severity.GENERAL)
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("Description"),
        max_length=DESCRIPTION_MAX,
    )
    address = forms.CharField(max_length=200, required=False, label=_("Address"))
    residents = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Parties from the registry"),
        widget=ResidentPicker(),
        help_text=_("Type a name to pick a registered resident"),
    )
    parties = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=NOTE_MAX,
        required=False,
        label=_("Other parties"),
        help_text=_("One per line: name, role, phone"),
    )
    photo = forms.FileField(required=False, label=_("Take a photo"), widget=camera_input())
    files = MultipleFileField(required=False, label=_("Photos and files"))
    field_order = [
        "node",
        "kind",
        "sub_kind",
        "source",
        "source_ref",
        "severity",
        "title",
        "description",
        "address",
        "latitude",
        "longitude",
        "residents",
        "parties",
        "photo",
        "files",
    ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = selectors.recordable_nodes(user)
        self.fields["residents"].queryset = selectors.residents_for_parties(user)

    def clean_parties(self) -> list[dict[str, str]]:
        people = []
        for line in self.cleaned_data["parties"].splitlines():
            bits = [b.strip() for b in line.replace("，", ",").split(",")]
            if bits and bits[0]:
                people.append(
                    {"name": bits[0], "role": bits[1] if len(bits) > 1 else "", "phone": ",".join(bits[2:])}
                )
        return people


class _ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, user: User, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = selectors.unit_choices_for(user, case)
        if "responsible_unit" in self.fields:
            self.fields["responsible_unit"].queryset = units
        if "responsible_person" in self.fields:
            person = self.fields["responsible_person"]
            person.queryset = selectors.unit_people(user)
            # What the page lists: the members of the case's current unit; the script (field.js)
            # replaces them with the chosen unit's members. The form still accepts anyone of the
            # city's units, and the service checks membership of the chosen unit.
            members = selectors.unit_members(user, case.responsible_unit_id)
            person.widget.choices = [("", "---------"), *((m.pk, str(m)) for m in members)]
            person.widget.attrs.update(
                {
                    "data-people-of": self.add_prefix("responsible_unit"),
                    "data-people-url": reverse("cases:unit_people"),
                }
            )
        if "assists" in self.fields:
            self.fields["assists"].queryset = units

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for name in ("responsible_unit", "responsible_person"):
            if name in data:
                data[name] = data[name].pk if data[name] is not None else None
        if "assists" in data:
            task = data.pop("assist_task", "") or ""
            due = data.pop("assist_due_at", None)
            data["assists"] = [{"unit": unit.pk, "task": task, "due_at": due} for unit in data["assists"]]
        return data


def _reason_field() -> forms.CharField:
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Reason"), max_length=NOTE_MAX)


def _note_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Note"), max_length=NOTE_MAX
    )


def _unit_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=None, label=_("Responsible unit"))


def _person_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=None, required=False, label=_("Responsible person"))


class DispatchForm(_ActionForm):
    responsible_unit = _unit_field()
    responsible_person = _person_field()
    due_at = forms.DateTimeField(
        required=False,
        label=_("Deadline (empty: from the time-limit policy)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    assists = forms.ModelMultipleChoiceField(queryset=None, required=False, label=_("Assisting units"))
    assist_task = forms.CharField(max_length=200, required=False, label=_("Their part"))
    assist_due_at = forms.DateTimeField(
        required=False,
        label=_("Their deadline (empty: the handling limit, never after the case's deadline)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    confirm_late_parts = forms.BooleanField(
        required=False, label=_("I confirm an assisting unit's deadline after the case's own")
    )
    note = _note_field()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("assists") and not (data.get("assist_task") or "").strip():
            self.add_error("assist_task", _("Describe the assisting units' part."))
        return data


class ReasonForm(_ActionForm):
    reason = _reason_field()


class NoteForm(_ActionForm):
    note = _note_field()


class ReassignForm(_ActionForm):
    responsible_unit = _unit_field()
    responsible_person = _person_field()
    reason = _reason_field()


class ConfirmForm(_ActionForm):
    responsible_person = _person_field()
    due_at = forms.DateTimeField(
        label=_("New deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = _note_field()


class ExtensionForm(_ActionForm):
    amount = forms.IntegerField(min_value=1, max_value=1000, label=_("How much more time"))
    unit = forms.ChoiceField(choices=LimitUnit.choices, label=_("Time unit"))
    reason = _reason_field()


class SubmitForm(_ActionForm):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Resolution"), max_length=NOTE_MAX
    )


class CloseForm(_ActionForm):
    satisfaction = forms.ChoiceField(
        choices=Satisfaction.choices, label=_("Residents' satisfaction (call-back)")
    )
    callback_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=_("Call-back note"),
        max_length=NOTE_MAX,
    )


class MergeForm(_ActionForm):
    into = IdFormField(label=_("Number of the case to merge into"))
    note = _note_field()


class PartDoneForm(_ActionForm):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label=_("What your unit did"), max_length=NOTE_MAX
    )


ACTION_FORMS: dict[str, type[_ActionForm]] = {
    "dispatch": DispatchForm,
    "accept": NoteForm,
    "return": ReasonForm,
    "dispute": ReasonForm,
    "decide": ReassignForm,
    "transfer": ReassignForm,
    "confirm": ConfirmForm,
    "escalate": ReasonForm,
    "request_extension": ExtensionForm,
    "approve_extension": NoteForm,
    "deny_extension": ReasonForm,
    "pause": ReasonForm,
    "resume": NoteForm,
    "complete_part": PartDoneForm,
    "submit": SubmitForm,
    "reject": ReasonForm,
    "close": CloseForm,
    "reopen": ReasonForm,
    "merge": MergeForm,
}


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        max_length=selectors.SEARCH_MAX,
        required=False,
        strip=True,
        label=_("Keyword"),
        widget=PlainTextInput(
            attrs={"type": "search", "placeholder": _("number, title, description or party")}
        ),
    )
    queue = forms.ChoiceField(
        choices=[("", _("any")), *selectors.queue_choices()],
        required=False,
        label=_("Workbench queue"),
        widget=PlainSelect,
    )
    view = forms.ChoiceField(
        choices=[("all", _("All in scope")), ("mine", _("My cases")), ("unit", _("My unit's cases"))],
        required=False,
        label=_("Show"),
        widget=PlainSelect,
    )
    kind = forms.ChoiceField(
        choices=[("", _("any kind")), *CaseKind.choices], required=False, label=_("Kind"), widget=PlainSelect
    )
    status = forms.ChoiceField(
        choices=[("", _("any status")), *Status.choices],
        required=False,
        label=_("Status"),
        widget=PlainSelect,
    )
    node = IdFormField(required=False, widget=PlainHiddenInput)
    grid = forms.CharField(max_length=100, required=False, label=_("Grid"), widget=GridNamePicker())
    due_before = forms.DateField(
        required=False, label=_("Due by"), widget=PlainDateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(required=False, label=_("Overdue only"), widget=PlainCheckboxInput)


class UploadForm(forms.Form):
    photo = forms.FileField(required=False, label=_("Take a photo"), widget=camera_input())
    file = forms.FileField(required=False, label=_("Photo or document"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("photo") and not data.get("file"):
            raise forms.ValidationError(_("Choose a file."))
        return data

    @property
    def upload(self) -> Any:
        return self.cleaned_data.get("photo") or self.cleaned_data.get("file")


class CaseFromVisitForm(forms.Form):
    """Raise a case from a visit: the grid, source, address and photos come from the visit."""

    kind = forms.ChoiceField(choices=CaseKind.choices, label=_("Kind"))
    sub_kind = forms.ChoiceField(choices=SubKind.choices, label=_("Sub-kind"), initial=SubKind.OTHER)
    severity = forms.ChoiceField(choices=Severity.choices, label=_("Severity"), initial=Severity.GENERAL)
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label=_("Description")
    )
