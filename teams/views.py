"""Field pages for a phone (my plots, the visit form, a visit) and the coverage and assignment pages.

Thin: reads through `teams.selectors` (scoped), changes through `teams.services`. The visit form is
sent by `static/teams/field.js` to `/api/v1/visits/` through an IndexedDB queue, so it also works
offline; `/field/sw.js` caches these pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from grids import scoping
from grids.models import Level
from grids.registry.models import Tag
from ruian_grid.scoped import scoped_view

from . import selectors, services
from .models import User, VisitOutcome

SW_FILE = Path(settings.BASE_DIR) / "static" / "teams" / "sw.js"


def page(view):  # type: ignore[no-untyped-def]
    return scoped_view(login_required(view))


@page
@require_GET
def my_plots(request: HttpRequest) -> HttpResponse:
    """The member's day: their plots with this month's figures and the households due a visit."""
    plots = selectors.my_assignments(actor=request.user)
    due = selectors.my_due_households(actor=request.user)
    pairings = selectors.my_pairings(actor=request.user)
    return render(
        request,
        "teams/my_plots.html",
        {"plots": plots, "due": due, "pairings": pairings, "today": timezone.localdate()},
    )


@page
@require_GET
def visit_form(request: HttpRequest) -> HttpResponse:
    """The four steps on one screen; the household comes from the link (#h=<id>) or the list."""
    households = list(selectors.my_households(actor=request.user))
    mine = {h.pk for h in households}
    paired = [h for h in selectors.my_paired_households(actor=request.user) if h.pk not in mine]
    return render(
        request,
        "teams/visit_form.html",
        {
            "households": households,
            "paired": paired,
            "outcomes": VisitOutcome.choices,
            "tags": Tag.choices,
            "today": timezone.localdate(),
        },
    )


@page
@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = scoping.get_in_scope_or_404(selectors.visits_visible(request.user), pk=pk)
    return render(request, "teams/visit.html", {"visit": visit})


@page
@require_GET
def coverage(request: HttpRequest, pk: int) -> HttpResponse:
    node = scoping.get_node_or_404(request.user, pk)
    cov = selectors.coverage(actor=request.user, node=node)
    return render(
        request,
        "teams/coverage.html",
        {"cov": cov, "may_assign": scoping.can(request.user, services.ASSIGN, node), "PLOT": Level.PLOT},
    )


@page
@require_http_methods(["GET", "POST"])
def plot_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Who holds a plot now and before; a township administrator names the responsible member."""
    plot = scoping.get_node_or_404(request.user, pk)
    if plot.level != Level.PLOT:
        return redirect("teams:coverage", pk=plot.pk)
    people = selectors.assignable_members(plot=plot)
    error = ""
    if request.method == "POST":
        member = people.filter(pk=request.POST.get("member") or 0).first()
        try:
            if member is None:
                raise ValidationError(_("The person is not in the service team of this plot's cell."))
            services.plot_assign(
                actor=cast(User, request.user),
                plot=plot,
                member=member,
                duties=request.POST.get("duties", "")[:2000],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _("%(plot)s is now the responsibility of %(member)s.")
                % {
                    "plot": plot.name,
                    "member": member,
                },
            )
            return redirect("teams:assign", pk=plot.pk)
    history = selectors.assignments_visible(request.user).filter(plot=plot).order_by("-started_at")
    current = next((a for a in history if a.ended_at is None), None)
    return render(
        request,
        "teams/assign.html",
        {
            "plot": plot,
            "people": people,
            "history": history,
            "current": current,
            "error": error,
            "may_assign": scoping.can(request.user, services.ASSIGN, plot),
        },
        status=400 if error else 200,
    )


@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /field/ so its scope covers the field pages (no tenant data)."""
    response = HttpResponse(SW_FILE.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/field/"
    return response


@page
@require_GET
def pairings(request: HttpRequest, pk: int) -> HttpResponse:
    """A township's (or cell's) open pairings with their visits this month (two queries)."""
    node = scoping.get_node_or_404(request.user, pk)
    if node.level > Level.CELL:
        return redirect("teams:pairings", pk=node.parent_id)
    return render(
        request, "teams/pairings.html", {"pp": selectors.pairing_page(actor=request.user, node=node)}
    )


# --- the work log (工作日志) --------------------------------------------------------------------------

import datetime as dt  # noqa: E402

from django.http import Http404  # noqa: E402

from ruian_grid import worklog  # noqa: E402


def _log_day(raw: str | None) -> dt.date:
    if not raw:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise Http404 from exc


def log_subject(request: HttpRequest, params: Any) -> tuple[User | None, Any, dt.date]:
    """(person, node, day) of the log asked for, each fetched in the reader's scope (404 otherwise)."""
    day = _log_day(params.get("date"))
    if params.get("node"):
        return None, selectors.log_node(reader=request.user, pk=params.get("node")), day
    person = selectors.log_person(reader=request.user, pk=params.get("person") or request.user.pk)
    return person, None, day


@page
@require_http_methods(["GET", "POST"])
def work_log(request: HttpRequest) -> HttpResponse:
    """A person's or an office's log of one day: what they did in the system, and notes. Notes are
    written on the day; a closed day takes annotations only."""
    person, node, day = log_subject(request, request.GET)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("note"):
                note = scoping.get_in_scope_or_404(
                    selectors.log_notes(reader=request.user, day=day, person=person, node=node),
                    pk=request.POST.get("note"),
                )
                services.worklog_note_edit(
                    actor=cast(User, request.user), note=note, text=request.POST.get("text", "")
                )
            else:
                services.worklog_note_add(
                    actor=cast(User, request.user),
                    day=day,
                    text=request.POST.get("text", ""),
                    person=person,
                    node=node,
                )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect(request.get_full_path())
    entries = worklog.entries(worklog.LogQuery(reader=request.user, day=day, person=person, node=node))
    return render(
        request,
        "teams/work_log.html",
        {
            "person": person,
            "node": node,
            "day": day,
            "entries": entries,
            "open": selectors.day_open(day),
            "own": person is not None and person.pk == request.user.pk,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1) if day < timezone.localdate() else None,
            "error": error,
        },
        status=400 if error else 200,
    )
