"""The mechanisms' pages (phone-usable, no script of their own): thin — a selector to read, a form to
shape the input, one service to change. A refused input comes back as a message in Chinese, with
nothing written; an id out of scope is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors as case_selectors
from cases.models import SubKind
from ruian_grid.scoped import scoped_view

from . import forms, selectors, services

LIST_SIZE = 50


def _run(request: HttpRequest, form: Any, work: Callable[[dict[str, Any]], Any], done: str) -> Any:
    """Validate the form and run the service; a refusal becomes an error message (nothing written)."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return None
    try:
        result = work(form.cleaned_data)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return None
    messages.success(request, done)
    return result


def _node(request: HttpRequest, pk: Any, perm: str = "view_gridnode") -> Any:
    node = selectors.node_get(request.user, pk, perm) if pk else None
    if node is None:
        raise ValidationError(_("No such grid in your scope."))
    return node


def _unit(request: HttpRequest, pk: Any) -> Any:
    return case_selectors.unit_get(request.user, pk) if pk else None


def _choices(form: Any, name: str) -> Any:
    """A choice field of a form, to fill its choices from the user's scope."""
    return form.fields[name]


@scoped_view
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "mechanisms/index.html",
        {
            "to_sign": selectors.reviews_to_sign(user)[:10],
            "to_ack": selectors.warnings_to_acknowledge(user)[:10],
            "drafts": selectors.drafts_to_review(user)[:10],
            "decisions": selectors.decisions_of_my_units(user)[:10],
            "unread": selectors.unread_posts(user)[:10],
        },
    )


# --- reviews --------------------------------------------------------------------------------------


@scoped_view
@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = forms.OpenReviewForm(request.POST)
        review = _run(
            request,
            form,
            lambda d: services.review_open(
                actor=selectors.signed_in(request), node=_node(request, d["node"]), month=d["month"]
            ),
            _("Review opened."),
        )
        if review is not None:
            return redirect("mechanisms:review", review.pk)
        return redirect("mechanisms:reviews")
    nodes = selectors.reviews_to_sign(request.user).values_list("node_id", "node__name").distinct()
    return render(
        request,
        "mechanisms/reviews.html",
        {"reviews": selectors.reviews_visible(request.user)[:LIST_SIZE], "open_nodes": sorted(set(nodes))},
    )


@scoped_view
@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(request.user, pk)
    context: dict[str, Any] = {"review": review}
    if review.is_signed:
        context["record"] = review.snapshot
    else:
        context["figures"] = selectors.review_figures(review)
        context["rows"] = selectors.review_dispute_rows(review)
        context["units"] = case_selectors.unit_choices(request.user)
        context["people"] = case_selectors.unit_people(request.user)
    return render(request, "mechanisms/review.html", context)


@scoped_view
@login_required
@require_POST
def review_act(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    review = selectors.review_get(request.user, pk)
    user = selectors.signed_in(request)
    if what == "analysis":
        _run(
            request,
            forms.AnalysisForm(request.POST),
            lambda d: services.review_save_analysis(actor=user, review=review, analysis=d["analysis"]),
            _("Analysis saved."),
        )
    elif what == "confirm":

        def confirm(d: dict[str, Any]) -> Any:
            case = case_selectors.merge_target_get(user, d["case"])
            if case is None:
                raise ValidationError(_("No such case in your scope."))
            return services.review_confirm(
                actor=user,
                review=review,
                case=case,
                unit=_unit(request, d["unit"]),
                person=case_selectors.person_get(user, d["person"]),
                due_at=d["due_at"],
                note=d["note"],
            )

        _run(request, forms.ConfirmForm(request.POST), confirm, _("Responsibility confirmed."))
    elif what == "sign":
        _run(
            request,
            forms.forms.Form(request.POST),
            lambda d: services.review_sign(actor=user, review=review),
            _("Review signed off."),
        )
    return redirect("mechanisms:review", review.pk)


# --- warnings and drafts --------------------------------------------------------------------------


@scoped_view
@login_required
def warning_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        warning = _run(
            request,
            forms.WarningForm(request.POST),
            lambda d: services.warning_publish(
                actor=selectors.signed_in(request),
                node=_node(request, d["node"]) if d["node"] else None,
                level=d["level"],
                title=d["title"],
                measures=d["measures"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
            ),
            _("Warning published."),
        )
        return redirect("mechanisms:warning", warning.pk) if warning else redirect("mechanisms:warnings")
    return render(
        request,
        "mechanisms/warnings.html",
        {
            "warnings": selectors.warnings_visible(request.user)[:LIST_SIZE],
            "form": forms.WarningForm(),
            "targets": selectors.publish_targets(request.user),
        },
    )


@scoped_view
@login_required
def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = selectors.warning_get(request.user, pk)
    if request.method == "POST":
        _run(
            request,
            forms.AckForm(request.POST),
            lambda d: services.warning_acknowledge(
                actor=selectors.signed_in(request),
                warning=warning,
                cell=selectors.node_get(request.user, d["cell"]),
                note=d["note"],
            ),
            _("Acknowledged."),
        )
        return redirect("mechanisms:warning", warning.pk)
    cells = list(selectors.warning_cells(warning))
    return render(
        request,
        "mechanisms/warning.html",
        {
            "warning": warning,
            "cells": cells,
            "missing": [c for c in cells if not c.acked],
            "mine": selectors.ack_cells(request.user, warning),
        },
    )


@scoped_view
@login_required
def draft_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "mechanisms/drafts.html", {"drafts": selectors.drafts_visible(request.user)[:LIST_SIZE]}
    )


@scoped_view
@login_required
def draft_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = selectors.draft_get(request.user, pk)
    if request.method == "POST":
        if request.POST.get("do") == "publish":
            warning = _run(
                request,
                forms.PublishDraftForm(request.POST),
                lambda d: services.draft_publish(actor=selectors.signed_in(request), draft=draft, **d),
                _("Warning published."),
            )
            if warning is not None:
                return redirect("mechanisms:warning", warning.pk)
        else:
            _run(
                request,
                forms.ReasonForm(request.POST),
                lambda d: services.draft_dismiss(
                    actor=selectors.signed_in(request), draft=draft, reason=d["reason"]
                ),
                _("Draft dismissed."),
            )
        return redirect("mechanisms:draft", draft.pk)
    return render(
        request,
        "mechanisms/draft.html",
        {
            "draft": draft,
            "kind": SubKind(draft.sub_kind).label if draft.sub_kind in SubKind.values else draft.sub_kind,
            "series": selectors.draft_series(draft),
            "publish_form": forms.PublishDraftForm(),
        },
    )


# --- meetings -------------------------------------------------------------------------------------


def _unit_choices(request: HttpRequest) -> list[tuple[int, str]]:
    return [(u.pk, u.name) for u in selectors.meeting_units(request.user)]


@scoped_view
@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    form = forms.MeetingForm(request.POST or None)
    _choices(form, "units").choices = _unit_choices(request)
    if request.method == "POST":
        meeting = _run(
            request,
            form,
            lambda d: services.meeting_schedule(
                actor=selectors.signed_in(request),
                node=_node(request, d["node"]),
                title=d["title"],
                starts_at=d["starts_at"],
                unit_ids=d["units"],
                place=d["place"],
                agenda=d["agenda"],
            ),
            _("Meeting scheduled; the units are invited."),
        )
        return redirect("mechanisms:meeting", meeting.pk) if meeting else redirect("mechanisms:meetings")
    return render(
        request,
        "mechanisms/meetings.html",
        {
            "meetings": selectors.meetings_visible(request.user)[:LIST_SIZE],
            "form": form,
            "targets": selectors.publish_targets(request.user, max_level=1),
        },
    )


@scoped_view
@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_get(request.user, pk)
    invited = [(i.unit_id, i.unit.name) for i in meeting.invitees.all()]
    if request.method == "POST":
        what = request.POST.get("do")
        if what == "minutes":
            form = forms.MinutesForm(request.POST)
            _choices(form, "attended").choices = invited
            _run(
                request,
                form,
                lambda d: services.meeting_record(
                    actor=selectors.signed_in(request),
                    meeting=meeting,
                    minutes=d["minutes"],
                    attended_unit_ids=d["attended"],
                ),
                _("Minutes recorded."),
            )
        elif what == "decision":
            _run(
                request,
                forms.DecisionForm(request.POST),
                lambda d: services.decision_add(
                    actor=selectors.signed_in(request),
                    meeting=meeting,
                    text=d["text"],
                    owner=_unit(request, d["owner"]),
                    due_at=d["due_at"],
                ),
                _("Decision added as an action item."),
            )
        elif what == "done":
            decision = selectors.decision_get(request.user, request.POST.get("decision"))
            _run(
                request,
                forms.DoneForm(request.POST),
                lambda d: services.decision_complete(
                    actor=selectors.signed_in(request), decision=decision, note=d["note"]
                ),
                _("Reported done."),
            )
        return redirect("mechanisms:meeting", meeting.pk)
    minutes_form = forms.MinutesForm()
    _choices(minutes_form, "attended").choices = invited
    return render(
        request,
        "mechanisms/meeting.html",
        {
            "meeting": meeting,
            "minutes_form": minutes_form,
            "decision_form": forms.DecisionForm(),
            "units": selectors.meeting_units(request.user),
        },
    )


# --- shared information ---------------------------------------------------------------------------


@scoped_view
@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = _run(
            request,
            forms.PostForm(request.POST),
            lambda d: services.post_create(
                actor=selectors.signed_in(request),
                node=_node(request, d["node"]),
                title=d["title"],
                body=d["body"],
                share_up=d["share_up"],
            ),
            _("Posted."),
        )
        return redirect("mechanisms:post", post.pk) if post else redirect("mechanisms:posts")
    return render(
        request,
        "mechanisms/posts.html",
        {
            "posts": selectors.posts_visible(request.user)[:LIST_SIZE],
            "form": forms.PostForm(),
            "targets": selectors.publish_targets(request.user, perm="record_case"),
        },
    )


@scoped_view
@login_required
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = selectors.post_get(request.user, pk)
    if request.method == "POST":
        services.post_mark_read(actor=selectors.signed_in(request), post=post)
        return redirect("mechanisms:post", post.pk)
    reads, unread = selectors.post_audience(post)
    return render(request, "mechanisms/post.html", {"post": post, "reads": reads, "unread": unread})


# --- analyses and patrols -------------------------------------------------------------------------


@scoped_view
@login_required
def analysis_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        analysis = _run(
            request,
            forms.AnalyseForm(request.POST),
            lambda d: services.analysis_create(
                actor=selectors.signed_in(request),
                node=_node(request, d["node"]),
                period_start=d["period_start"],
                period_end=d["period_end"],
                conclusions=d["conclusions"],
            ),
            _("Analysis made."),
        )
        return redirect("mechanisms:analysis", analysis.pk) if analysis else redirect("mechanisms:analyses")
    return render(
        request,
        "mechanisms/analyses.html",
        {
            "analyses": selectors.analyses_visible(request.user)[:LIST_SIZE],
            "targets": selectors.publish_targets(request.user),
        },
    )


@scoped_view
@login_required
def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "mechanisms/analysis.html", {"analysis": selectors.analysis_get(request.user, pk)})


@scoped_view
@login_required
def patrol_list(request: HttpRequest) -> HttpResponse:
    cells = selectors.patrol_cells(request.user)
    cell = selectors.node_get(
        request.user, request.GET.get("cell") or request.POST.get("cell"), "record_case"
    )
    form = forms.PatrolForm(request.POST or None, initial={"cell": cell.pk if cell else None})
    teams: dict[int, Any] = {}
    if cell is not None:
        plots = [(p.pk, p.name) for p in selectors.plots_of(cell)]
        _choices(form, "plots").choices = plots
        _choices(form, "finding_plot").choices = [("", "—"), *plots]
        teams = {t.pk: t for t in selectors.service_teams_of(cell)}
        _choices(form, "team_unit").choices = [("", "—"), *((pk, t.name) for pk, t in teams.items())]
    if request.method == "POST":

        def record(d: dict[str, Any]) -> Any:
            if cell is None:
                raise ValidationError(_("Choose the cell."))
            plots_by_pk = {p.pk: p for p in selectors.plots_of(cell).filter(pk__in=d["plots"])}
            findings = []
            if d["finding_text"]:
                plot = plots_by_pk.get(d["finding_plot"])
                if plot is None:
                    raise ValidationError(_("A finding must lie in a plot the patrol covered."))
                findings.append(
                    services.FindingSpec(plot, d["finding_text"], d["raise_case"], d["finding_kind"])
                )
            return services.patrol_record(
                actor=selectors.signed_in(request),
                cell=cell,
                team=d["team"],
                team_unit=teams.get(d["team_unit"]) if d["team_unit"] else None,
                started_at=d["started_at"],
                ended_at=d["ended_at"],
                plots=list(plots_by_pk.values()),
                member_ids=[selectors.signed_in(request).pk],
                note=d["note"],
                findings=findings,
            )

        patrol = _run(request, form, record, _("Patrol logged."))
        return redirect("mechanisms:patrol", patrol.pk) if patrol else redirect("mechanisms:patrols")
    return render(
        request,
        "mechanisms/patrols.html",
        {
            "patrols": selectors.patrols_visible(request.user)[:LIST_SIZE],
            "cells": cells,
            "cell": cell,
            "form": form,
        },
    )


@scoped_view
@login_required
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patrol = selectors.patrol_get(request.user, pk)
    if request.method == "POST":
        form = forms.ToCaseForm(request.POST)

        def raise_case(d: dict[str, Any]) -> Any:
            finding = selectors.finding_get(request.user, d["finding"])
            return services.finding_to_case(
                actor=selectors.signed_in(request), finding=finding, kind=d["kind"], sub_kind=d["sub_kind"]
            )

        _run(request, form, raise_case, _("The finding is now a case."))
        return redirect("mechanisms:patrol", patrol.pk)
    return render(request, "mechanisms/patrol.html", {"patrol": patrol, "form": forms.ToCaseForm()})


# --- campaigns ------------------------------------------------------------------------------------


@scoped_view
@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        campaign = _run(
            request,
            forms.CampaignForm(request.POST),
            lambda d: services.campaign_create(
                actor=selectors.signed_in(request), node=_node(request, d.pop("node")), **d
            ),
            _("Campaign created."),
        )
        return redirect("mechanisms:campaign", campaign.pk) if campaign else redirect("mechanisms:campaigns")
    return render(
        request,
        "mechanisms/campaigns.html",
        {
            "campaigns": selectors.campaigns_visible(request.user)[:LIST_SIZE],
            "form": forms.CampaignForm(),
            "targets": selectors.publish_targets(request.user, max_level=1),
        },
    )


@scoped_view
@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(request.user, pk)
    if request.method == "POST":
        _run(
            request,
            forms.MilestoneForm(request.POST),
            lambda d: services.milestone_add(actor=selectors.signed_in(request), campaign=campaign, **d),
            _("Milestone added."),
        )
        return redirect("mechanisms:campaign", campaign.pk)
    milestones = [(m, selectors.milestone_progress(m, campaign)) for m in campaign.milestones.all()]
    return render(
        request,
        "mechanisms/campaign.html",
        {
            "campaign": campaign,
            "milestones": milestones,
            "monthly": selectors.campaign_monthly(campaign),
            "form": forms.MilestoneForm(),
        },
    )
