"""Page forms: the shape of the input only; the services decide the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import CaseKind, SubKind

from .models import CampaignKind, Metric, Phase, WarningLevel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _when(label: StrOrPromise, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=required, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


def _day(label: StrOrPromise) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


def _area(label: StrOrPromise, required: bool = True, limit: int = 5000) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=limit, widget=forms.Textarea(attrs={"rows": 3})
    )


class OpenReviewForm(forms.Form):
    node = forms.IntegerField(widget=forms.HiddenInput)
    month = forms.DateField(label=_("Month (any day of it)"), widget=forms.DateInput(attrs={"type": "date"}))


class AnalysisForm(forms.Form):
    analysis = _area(_("Analysis"), required=False)


class ConfirmForm(forms.Form):
    case = forms.IntegerField(widget=forms.HiddenInput)
    unit = forms.IntegerField(label=_("Responsible unit"), required=False)
    person = forms.IntegerField(label=_("Responsible person"), required=False)
    due_at = _when(_("Deadline"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class WarningForm(forms.Form):
    node = forms.IntegerField(label=_("Grid"), required=False)
    level = forms.ChoiceField(label=_("Level"), choices=WarningLevel.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    measures = _area(_("Measures to take"))
    starts_at = _when(_("Holds from"), required=False)
    ends_at = _when(_("Holds until"), required=False)


class AckForm(forms.Form):
    cell = forms.IntegerField(label=_("Cell"))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ReasonForm(forms.Form):
    reason = _area(_("Reason"), required=False, limit=2000)


class PublishDraftForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=WarningLevel.choices)
    measures = _area(_("Measures to take"))
    ends_at = _when(_("Holds until"))


class MeetingForm(forms.Form):
    node = forms.IntegerField(label=_("Grid"))
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = _when(_("Starts at"))
    place = forms.CharField(label=_("Place"), required=False, max_length=200)
    agenda = _area(_("Agenda"), required=False)
    units = forms.TypedMultipleChoiceField(label=_("Units invited"), coerce=int, required=False, choices=())


class MinutesForm(forms.Form):
    minutes = _area(_("Minutes"))
    attended = forms.TypedMultipleChoiceField(label=_("Attended"), coerce=int, required=False, choices=())


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), max_length=500)
    owner = forms.IntegerField(label=_("Owner unit"), required=False)
    due_at = _when(_("Deadline"), required=False)


class DoneForm(forms.Form):
    note = _area(_("What was done"), limit=2000)


class PostForm(forms.Form):
    node = forms.IntegerField(label=_("Grid"))
    title = forms.CharField(label=_("Title"), max_length=200)
    body = _area(_("Text"))
    share_up = forms.BooleanField(label=_("Also visible to the tiers above"), required=False)


class PatrolForm(forms.Form):
    cell = forms.IntegerField(widget=forms.HiddenInput)
    team_unit = forms.TypedChoiceField(
        label=_("Service team"), coerce=int, required=False, empty_value=None, choices=()
    )
    team = forms.CharField(label=_("Team (if not a service team)"), max_length=100, required=False)
    started_at = _when(_("Started at"))
    ended_at = _when(_("Ended at"))
    plots = forms.TypedMultipleChoiceField(label=_("Plots covered"), coerce=int, choices=())
    note = _area(_("Note"), required=False, limit=2000)
    finding_plot = forms.TypedChoiceField(label=_("Finding: plot"), coerce=int, required=False, choices=())
    finding_text = forms.CharField(label=_("Finding"), required=False, max_length=500)
    finding_kind = forms.ChoiceField(
        label=_("Finding: kind"),
        choices=[(CaseKind.HAZARD, CaseKind.HAZARD.label), (CaseKind.INCIDENT, CaseKind.INCIDENT.label)],
    )
    raise_case = forms.BooleanField(label=_("Record the finding as a case now"), required=False)


class ToCaseForm(forms.Form):
    finding = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(CaseKind.HAZARD, CaseKind.HAZARD.label), (CaseKind.INCIDENT, CaseKind.INCIDENT.label)],
    )
    sub_kind = forms.ChoiceField(label=_("Sub-kind"), choices=SubKind.choices, initial=SubKind.OTHER)


class AnalyseForm(forms.Form):
    node = forms.IntegerField(widget=forms.HiddenInput)
    period_start = _day(_("From"))
    period_end = _day(_("To (exclusive)"))
    conclusions = _area(_("Conclusions"), required=False)


class CampaignForm(forms.Form):
    node = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=CampaignKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    starts_on = _day(_("Starts on"))
    ends_on = _day(_("Ends on"))
    watched_sub_kind = forms.ChoiceField(
        label=_("Incidents watched"), required=False, choices=[("", "—"), *SubKind.choices]
    )


class MilestoneForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = _day(_("Due on"))
    metric = forms.ChoiceField(label=_("Measured by"), choices=Metric.choices)
    case_kind = forms.ChoiceField(
        label=_("Case kind"), required=False, choices=[("", "—"), *CaseKind.choices]
    )
    target_percent = forms.IntegerField(label=_("Target (%)"), min_value=1, max_value=100, initial=100)
