"""Registry pages (mobile first): thin views over the selectors and services.

Every page is sign-in only, scoped through a selector (an id outside the user's scope is a 404), and
sent with `Cache-Control: no-store` since it shows names and numbers. Forms that carry numbers are
POSTed and marked sensitive, so the numbers never reach a URL or an error report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grids import scoping
from grids.models import Level
from ruian_grid.pagination import Page, page_of
from ruian_grid.scoped import scoped_view

from . import api, filters, forms, selectors, services
from .models import ImportKind

PAGE_SIZE = 50
SEARCH_CAP = 100
SENSITIVE = ("id_number", "phone", "contact_phone", "q", "reason")


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required, never cached, numbers hidden from error reports; scoped (through selectors)."""
    return scoped_view(login_required(never_cache(sensitive_post_parameters(*SENSITIVE)(view))))


def _get(qs: Any, **lookup: Any) -> Any:
    return scoping.get_in_scope_or_404(qs, **lookup)


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _paginate(request: HttpRequest, qs: Any, *, count: bool = True) -> Page:
    """Keyset page after `?after=`; "More" (htmx) appends the next rows to the table."""
    return page_of(request, qs, PAGE_SIZE, count=count)


# The related rows a list page's rows draw (grids/templatetags/registry_rows.py): the page loads these
# alone, not every row the selector joins for exports and detail pages.
ROW_RELATED = {"households": ("plot", "dwelling__building"), "residents": ("household",)}


def _export_or_list(
    request: HttpRequest, kind: str, qs: Any, template: str, extra: dict[str, Any]
) -> HttpResponse:
    if request.GET.get("export") == "xlsx":
        return api._export(kind, qs)  # noqa: SLF001 - one export function for API and pages
    query = request.GET.copy()
    query.pop("after", None)
    rows = qs.select_related(None).select_related(*ROW_RELATED[kind]) if kind in ROW_RELATED else qs
    context = {**extra, "page_obj": _paginate(request, rows), "query": query.urlencode()}
    return render(request, template, context)


# --- overview and search --------------------------------------------------------------------------


@page
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The plots in scope with their household counts (one aggregate query for the page's plots)."""
    plots = _paginate(request, selectors.plots_for(request.user), count=False)
    counts = selectors.household_counts(request.user, Level.PLOT, within=[p.pk for p in plots])
    for plot in plots:
        plot.household_count = counts.get(plot.pk, 0)
    return render(request, "registry/index.html", {"page_obj": plots, "search_form": forms.SearchForm()})


@page
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """POST only for the search itself: an ID number or phone typed here never lands in a URL."""
    form = forms.SearchForm(request.POST or None)
    results = None
    capped = False
    if request.method == "POST" and form.is_valid():
        # One row past the cap tells whether the list is cut, without counting every match.
        results = list(selectors.search_residents(request.user, form.cleaned_data["q"])[: SEARCH_CAP + 1])
        capped = len(results) > SEARCH_CAP
        results = results[:SEARCH_CAP]
    return render(
        request,
        "registry/search.html",
        {"form": form, "results": results, "capped": capped, "cap": SEARCH_CAP},
    )


# --- plots and households -------------------------------------------------------------------------


@page
@require_GET
def plot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plot = _get(selectors.plots_for(request.user), pk=pk)
    qs = selectors.households_for(request.user).filter(plot_id=plot.pk).order_by("number")
    can_manage = scoping.can(request.user, selectors.MANAGE, plot)
    return _export_or_list(
        request, "households", qs, "registry/plot.html", {"plot": plot, "can_manage": can_manage}
    )


@page
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    f = filters.HouseholdFilter(
        request.GET, queryset=selectors.households_for(request.user).order_by("number"), request=request
    )
    return _export_or_list(request, "households", f.qs, "registry/household_list.html", {"filter": f})


@page
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    form = forms.HouseholdForm(
        request.POST or None, user=request.user, initial={"plot": request.GET.get("plot")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = services.household_create(
                actor=request.user,
                plot=data["plot"],
                number=data["number"],
                address=data["address"],
                dwelling=data["dwelling"],
                tags=data["tags"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Household %s added.") % household.number)
            return redirect("registry:household", pk=household.pk)
    return render(request, "registry/form.html", {"form": form, "title": _("Add a household")})


@page
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = _get(selectors.households_for(request.user), pk=pk)
    context = {
        "household": household,
        "residents": selectors.residents_for(request.user)
        .filter(household_id=household.pk)
        .order_by("relation", "id"),
        "history": selectors.history_of(household),
        "can_manage": scoping.can(request.user, selectors.MANAGE, household.plot),
        "can_record": scoping.can(request.user, "record_case", household.plot),
    }
    return render(request, "registry/household.html", context)


@page
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _get(selectors.households_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.HouseholdForm(
        request.POST or None,
        user=request.user,
        editing=True,
        initial=forms.HouseholdForm.initial_for(household),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.household_update(
                actor=request.user,
                household=household,
                address=data["address"],
                dwelling=data["dwelling"],
                tags=data["tags"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("registry:household", pk=household.pk)
    return render(
        request, "registry/form.html", {"form": form, "title": _("Edit household %s") % household.number}
    )


@page
@require_http_methods(["GET", "POST"])
def household_move(request: HttpRequest, pk: int) -> HttpResponse:
    household = _get(selectors.households_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.MoveHouseholdForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_move(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Household moved."))
            return redirect("registry:household", pk=household.pk)
    return render(
        request, "registry/form.html", {"form": form, "title": _("Move household %s") % household.number}
    )


@page
@require_http_methods(["GET", "POST"])
def household_deregister(request: HttpRequest, pk: int) -> HttpResponse:
    household = _get(selectors.households_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.household_deregister(
            actor=request.user, household=household, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Household deregistered."))
        return redirect("registry:household", pk=household.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": _("Deregister household %s") % household.number, "danger": True},
    )


# --- residents ------------------------------------------------------------------------------------


@page
@require_GET
def resident_list(request: HttpRequest) -> HttpResponse:
    f = filters.ResidentFilter(
        request.GET,
        queryset=selectors.residents_for(request.user).order_by("household_id", "id"),
        request=request,
    )
    return _export_or_list(request, "residents", f.qs, "registry/resident_list.html", {"filter": f})


@page
@require_http_methods(["GET", "POST"])
def resident_create(request: HttpRequest, pk: int) -> HttpResponse:
    household = _get(selectors.households_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_create(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%s added.") % resident.name)
            return redirect("registry:household", pk=household.pk)
    return render(
        request, "registry/form.html", {"form": form, "title": _("Add a resident to %s") % household.number}
    )


@page
@require_GET
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _get(selectors.residents_for(request.user), pk=pk)
    context = {
        "resident": resident,
        "history": selectors.history_of(resident),
        "can_manage": scoping.can(request.user, selectors.MANAGE, resident.plot),
        "can_reveal": scoping.can(request.user, services.REVEAL, resident.plot),
        "reveal_form": forms.ReasonForm(),
    }
    return render(request, "registry/resident.html", context)


@page
@require_POST
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The numbers in clear, for one resident, with a reason; logged. Answers an htmx fragment."""
    resident = _get(selectors.residents_for(request.user), pk=pk)
    form = forms.ReasonForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            revealed = services.personal_data_reveal(
                actor=request.user, resident=resident, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied:
            return render(
                request, "registry/_reveal.html", {"resident": resident, "denied": True}, status=403
            )
    status = 200 if revealed else 400
    template = "registry/_reveal.html" if request.htmx else "registry/reveal_page.html"
    return render(
        request, template, {"resident": resident, "form": form, "revealed": revealed}, status=status
    )


@page
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _get(selectors.residents_for(request.user, selectors.MANAGE), pk=pk)
    initial = {k: getattr(resident, k) for k in ("name", "id_type", "population_type", "relation")}
    form = forms.ResidentForm(request.POST or None, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data}
        data["id_number"] = data["id_number"] or None
        data["phone"] = data["phone"] or None
        try:
            services.resident_update(actor=request.user, resident=resident, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("registry:resident", pk=resident.pk)
    return render(request, "registry/form.html", {"form": form, "title": _("Edit %s") % resident.name})


@page
@require_http_methods(["GET", "POST"])
def resident_move(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _get(selectors.residents_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.MoveResidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_move(
                actor=request.user,
                resident=resident,
                household=form.cleaned_data["household_number"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("registry:resident", pk=resident.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": _("Move %s to another household") % resident.name},
    )


@page
@require_http_methods(["GET", "POST"])
def resident_deregister(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _get(selectors.residents_for(request.user, selectors.MANAGE), pk=pk)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.resident_deregister(
            actor=request.user, resident=resident, reason=form.cleaned_data["reason"]
        )
        return redirect("registry:resident", pk=resident.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": _("Deregister %s") % resident.name, "danger": True},
    )


# --- buildings and establishments -----------------------------------------------------------------


@page
@require_GET
def building_list(request: HttpRequest) -> HttpResponse:
    f = filters.BuildingFilter(
        request.GET, queryset=selectors.buildings_for(request.user).order_by("code"), request=request
    )
    return _export_or_list(request, "buildings", f.qs, "registry/building_list.html", {"filter": f})


@page
@require_http_methods(["GET", "POST"])
def building_create(request: HttpRequest) -> HttpResponse:
    form = forms.BuildingForm(
        request.POST or None, user=request.user, initial={"plot": request.GET.get("plot")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            building = services.building_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("registry:building", pk=building.pk)
    return render(request, "registry/form.html", {"form": form, "title": _("Add a building")})


@page
@require_http_methods(["GET", "POST"])
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A building, its dwellings with their households, and (for managers) a form to add a dwelling."""
    building = _get(selectors.buildings_for(request.user), pk=pk)
    can_manage = scoping.can(request.user, selectors.MANAGE, building.plot)
    form = forms.DwellingForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.dwelling_create(actor=request.user, building=building, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("registry:building", pk=building.pk)
    context = {
        "building": building,
        "dwellings": selectors.dwellings_for(request.user).filter(building_id=building.pk).order_by("number"),
        "households": selectors.households_for(request.user)
        .filter(dwelling__building_id=building.pk)
        .order_by("number"),
        "can_manage": can_manage,
        "form": form,
    }
    return render(request, "registry/building.html", context)


@page
@require_GET
def establishment_list(request: HttpRequest) -> HttpResponse:
    f = filters.EstablishmentFilter(
        request.GET, queryset=selectors.establishments_for(request.user).order_by("name"), request=request
    )
    return _export_or_list(request, "establishments", f.qs, "registry/establishment_list.html", {"filter": f})


@page
@require_http_methods(["GET", "POST"])
def establishment_create(request: HttpRequest) -> HttpResponse:
    form = forms.EstablishmentForm(
        request.POST or None, user=request.user, initial={"plot": request.GET.get("plot")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            est = services.establishment_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%s added.") % est.name)
            return redirect("registry:establishments")
    return render(request, "registry/form.html", {"form": form, "title": _("Add an establishment")})


# --- imports and the access log -------------------------------------------------------------------


@page
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_start(
                actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("registry:import", pk=job.pk)
    jobs = selectors.import_jobs_for(request.user)[:20]
    return render(request, "registry/imports.html", {"form": form, "jobs": jobs, "kinds": ImportKind.choices})


@page
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get(selectors.import_jobs_for(request.user), pk=pk)
    template = "registry/_import_progress.html" if request.htmx else "registry/import.html"
    return render(request, template, {"job": job})


@page
@require_GET
def import_refused(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get(selectors.import_jobs_for(request.user), pk=pk)
    try:
        return api.refused_file_response(job)
    except api.NotFound:
        raise Http404 from None


@page
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportKind.values:
        raise Http404
    return api.template_response(request.user, kind)


@page
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    f = filters.AccessLogFilter(request.GET, queryset=selectors.access_log_for(request.user))
    return render(
        request, "registry/access_log.html", {"filter": f, "page_obj": _paginate(request, f.qs, count=False)}
    )


@page
@require_GET
def resident_pick(request: HttpRequest) -> JsonResponse:
    """The party picker's type-ahead: active residents in scope whose name starts with the text.

    Name, household number and plot only: never an ID number or a phone.
    """
    found = selectors.resident_pick(request.user, request.GET.get("q", ""))
    results = [
        {"id": r.pk, "name": r.name, "household": r.household.number, "plot": r.plot.name} for r in found
    ]
    return JsonResponse({"results": results, "capped": len(results) >= selectors.PICK_LIMIT})
