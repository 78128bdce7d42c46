"""Pages of responsibility tracing, cadre performance files, work reports and department scorecards,
with their .xlsx and PDF exports. Thin: every object comes through a selector (out of scope is the
same 404 as missing), every change through a service; refusals are shown in Chinese, nothing written."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook

from cases import selectors as case_selectors
from cases.models import Grade
from grids import scoping

from . import files, selectors, work_reports
from .api_files import department_card_data
from .exports import XLSX, _cell, workbook_response
from .models import Source, VetoStatus, WorkReportStatus
from .views import page


def _year(request: HttpRequest) -> int:
    try:
        return files.parse_year(request.GET.get("year"))
    except (TypeError, ValueError):
        return files.parse_year(None)


def _years() -> list[int]:
    this_year = timezone.localdate().year
    return list(range(this_year, max(2000, this_year - 5) - 1, -1))


def _errors(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    if isinstance(exc, PermissionDenied):
        messages.error(request, str(exc) or _("You may not do this."))
        return
    for message in exc.messages:
        messages.error(request, message)


# --- responsibility tracing ------------------------------------------------------------------------


@page
@require_GET
def case_tracing(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_selectors.case_get(request.user, pk)
    tracing = files.trace(case)
    return render(
        request, "reports/tracing.html", {"case": case, "tracing": tracing, "totals": tracing.totals()}
    )


# --- performance files -----------------------------------------------------------------------------


@page
@require_GET
def cadres(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("after", "")[:150]
    search = request.GET.get("q", "")[:50].strip()
    people = files.cadre_page(request.user, after=after, search=search)
    return render(
        request,
        "reports/cadres.html",
        {
            "people": people,
            "q": search,
            "next_after": people[-1].username if len(people) == files.PAGE else "",
        },
    )


def _file(request: HttpRequest, pk: int) -> files.PerformanceFile:
    person = files.cadre_get(request.user, pk)
    return files.performance_file(request.user, person, _year(request))


GRADES = dict(Grade.choices)


@page
@require_GET
def cadre_file(request: HttpRequest, pk: int) -> HttpResponse:
    f = _file(request, pk)
    return render(request, "reports/cadre_file.html", {"f": f, "years": _years(), "grades": GRADES})


def _file_sheets(f: files.PerformanceFile) -> list[tuple[str, list[str], list[list[Any]]]]:
    name = str(f.person)
    counts = f.counts
    return [
        (
            _("Summary"),
            [_("Cadre"), _("Year"), _("Cases handled"), _("Closed"), _("On time"), _("Late"), _("Still open"),
             _("Gone overdue"), _("Yellow cards"), _("Red cards")],
            [[name, f.year, counts["handled"], counts["closed"], counts["on_time"], counts["late"], counts["open"],
              counts["overdue"], counts["yellow_cards"], counts["red_cards"]]],
        ),
        (
            _("Cases"),
            [_("Number"), _("Title"), _("Responsible unit"), _("Status"), _("Recorded"), _("Closed"), _("Outcome")],
            [[r.case.number, r.case.title, r.case.responsible_unit.name if r.case.responsible_unit else "",
              r.case.get_status_display(), timezone.localtime(r.case.created_at).strftime("%Y-%m-%d %H:%M"),
              timezone.localtime(r.case.closed_at).strftime("%Y-%m-%d %H:%M") if r.case.closed_at else "",
              str(r.outcome_label)] for r in f.cases],
        ),
        (
            _("Supervision cards"),
            [_("Grade"), _("Case"), _("Unit"), _("Issued at")],
            [[str(GRADES.get(o.grade, o.grade)), o.about_title, o.unit.name if o.unit else "",
              timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M")] for o in f.orders],
        ),
        (
            _("Assessment results"),
            [_("Round"), _("Unit"), _("Total"), _("Rank"), _("Vetoed")],
            [[s.round.name, s.unit.name if s.unit else s.department.name if s.department else "", float(s.total),
              s.rank, _("yes") if s.vetoed else ""] for s in f.results],
        ),
    ]  # fmt: skip


def _book(filename: str, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> HttpResponse:
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append([_cell(h) for h in header])
        for row in rows:
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@page
@require_GET
def cadre_file_export(request: HttpRequest, pk: int) -> HttpResponse:
    f = _file(request, pk)
    return _book(f"file-{f.person.pk}-{f.year}.xlsx", _file_sheets(f))


@page
@require_GET
def cadre_file_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .pdf import pdf_response

    f = _file(request, pk)
    return pdf_response(
        "reports/pdf/cadre_file.html",
        {"f": f, "grades": GRADES},
        f"file-{f.person.pk}-{f.year}.pdf",
    )


# --- work reports ------------------------------------------------------------------------------------


@page
@require_http_methods(["GET", "POST"])
def work_report_list(request: HttpRequest) -> HttpResponse:
    units = work_reports.reporting_units(request.user)
    posted: Any = {}  # a refused submission comes back with what was typed
    if request.method == "POST":
        posted = request.POST
        unit = next((u for u in units if str(u.pk) == request.POST.get("unit")), None)
        try:
            if unit is None:
                raise ValidationError(_("Choose a member department you work in."))
            try:
                year = int(request.POST.get("year", ""))
            except ValueError as exc:
                raise ValidationError(_("Give a year from 2000 to this year.")) from exc
            report = work_reports.work_report_submit(
                actor=request.user,  # type: ignore[arg-type]
                unit=unit, year=year, text=request.POST.get("text", ""),
                attachment=request.FILES.get("attachment"),
            )  # fmt: skip
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Work report submitted."))
            return redirect("reports:work_report", report.pk)
    chosen = request.GET.get("year", "")
    qs = work_reports.work_reports_visible(request.user)
    if chosen.isdigit():
        qs = qs.filter(year=int(chosen))
    return render(
        request,
        "reports/work_reports.html",
        {"reports": list(qs[:500]), "units": units, "years": _years(), "year": chosen,
         "this_year": timezone.localdate().year, "posted": posted},
    )  # fmt: skip


@page
@require_http_methods(["GET", "POST"])
def work_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = work_reports.work_report_get(request.user, pk)
    posted: Any = {}  # a refused action comes back with what was typed
    if request.method == "POST":
        posted = request.POST
        actor: Any = request.user
        what = request.POST.get("what", "")
        try:
            if what == "review":
                work_reports.work_report_review(actor=actor, report=report, note=request.POST.get("note", ""))
            elif what == "score":
                try:
                    score = Decimal(request.POST.get("score", "").strip())
                except InvalidOperation as exc:
                    raise ValidationError(_("A work report is scored from 0 to 100.")) from exc
                work_reports.work_report_score(actor=actor, report=report, score=score)
            elif what == "edit":
                work_reports.work_report_edit(
                    actor=actor, report=report, text=request.POST.get("text", ""),
                    attachment=request.FILES.get("attachment"),
                )  # fmt: skip
            else:
                raise ValidationError(_("Unknown action."))
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("reports:work_report", report.pk)
    mine = report.unit_id in {u.pk for u in work_reports.reporting_units(request.user)}
    return render(
        request,
        "reports/work_report.html",
        {"report": report, "may_manage": work_reports.may_manage(request.user),
         "may_edit": mine and report.status == WorkReportStatus.SUBMITTED, "posted": posted},
    )  # fmt: skip


@page
@require_GET
def work_report_file(request: HttpRequest, pk: int) -> FileResponse:
    report = work_reports.work_report_get(request.user, pk)
    if not report.attachment:
        raise Http404
    name = report.attachment.name.rsplit("/", 1)[-1]
    return FileResponse(report.attachment.open("rb"), as_attachment=True, filename=name)


# --- department scorecards -------------------------------------------------------------------------


@page
@require_GET
def round_departments(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = scoping.get_in_scope_or_404(selectors.rounds_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, rnd)
    return render(
        request, "reports/round_departments.html", {"round": rnd, "data": data, "cards": data["departments"]}
    )


@page
@require_GET
def round_departments_export(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = scoping.get_in_scope_or_404(selectors.rounds_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, rnd)
    indicators = data["scheme"]["department_indicators"]
    header = [_("Rank"), _("Member department"), _("Total"), _("Vetoed"), _("Insufficient data"),
              *[f"{i['name']} ({i['weight']})" for i in indicators]]  # fmt: skip
    rows = []
    for c in data["departments"]:
        by = {line["indicator"]: line for line in c["lines"]}
        rows.append(
            [c["rank"], c["unit"]["name"], c["total"], _("yes") if c["vetoed"] else "",
             _("yes") if c["insufficient"] else "",
             *[by[i["id"]]["weighted"] if i["id"] in by else None for i in indicators]]
        )  # fmt: skip
    return workbook_response(f"assessment-{rnd.pk}-departments.xlsx", rnd.name, header, rows)


def _department_card(request: HttpRequest, pk: int) -> tuple[Any, dict[str, Any]]:
    card = scoping.get_in_scope_or_404(work_reports.department_scorecards_visible(request.user), pk=pk)
    mine = department_card_data(card)
    statuses, sources = dict(VetoStatus.choices), dict(Source.choices)
    mine["lines"] = [{**x, "source_label": sources.get(x["source"], "")} for x in mine["lines"]]
    mine["vetoes"] = [{**h, "status_label": statuses.get(h["status"], "")} for h in mine["vetoes"]]
    return card, mine


@page
@require_GET
def department_card(request: HttpRequest, pk: int) -> HttpResponse:
    card, mine = _department_card(request, pk)
    ids: set[int] = set()
    for part in [*mine["lines"], *mine["vetoes"]]:
        for key, rows in part["evidence"].items():
            if isinstance(rows, list) and key != "orders":
                ids.update(rows)
    cases = {c.pk: c for c in selectors.evidence_cases(request.user, sorted(ids))[:2000]}
    lines = [
        (line, [(key, [cases[i] for i in rows if i in cases])
                for key, rows in line["evidence"].items() if isinstance(rows, list) and key != "orders"])
        for line in mine["lines"]
    ]  # fmt: skip
    return render(
        request, "reports/department_card.html", {"round": card.round, "card": mine, "lines": lines}
    )


@page
@require_GET
def department_card_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .pdf import pdf_response

    card, mine = _department_card(request, pk)
    data = {"scheme": {"name": card.round.scheme.name, "period_start": card.round.scheme.period_start,
                       "period_end": card.round.scheme.period_end}}  # fmt: skip
    return pdf_response(
        "reports/pdf/scorecard.html",
        {"round": card.round, "data": data, "card": mine},
        f"scorecard-{card.round_id}-{mine['unit']['code']}.pdf",
    )
