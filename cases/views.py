"""Case pages: lists per tier, recording, the case page with its timeline and actions, files.

Thin: every read is a `cases.selectors` call, every change a `cases.actions`/`cases.services` call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grids.models import GridNode
from ruian_grid.scoped import scoped_view

from . import actions, exports, rules, selectors, services, supervision
from .forms import ACTION_FORMS, CaseFilterForm, CaseFromVisitForm, CaseRecordForm, UploadForm
from .models import Case, Grade, case_number

PAGE_SIZE = 30


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _cursor(created_at: dt.datetime, pk: int) -> str:
    return f"{created_at.isoformat()}|{pk}"


def _after(qs: Any, cursor: str) -> Any:
    """Keyset: the rows after (created_at, id) in newest-first order."""
    stamp, _sep, pk = cursor.partition("|")
    moment = parse_datetime(stamp) if stamp else None
    if moment is None or not pk.isdigit():
        return qs
    return qs.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=int(pk)))


def _filtered(request: HttpRequest) -> tuple[CaseFilterForm, Any, GridNode | None, dict[str, Any]]:
    """The list's form and its scoped, filtered queryset; an invalid filter matches nothing (it is
    shown with its message, never silently dropped)."""
    form = CaseFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return form, selectors.cases_visible(request.user).none(), None, {}
    values: dict[str, Any] = form.cleaned_data if request.GET else {}
    if values.get("grid"):
        node = selectors.node_by_label(request.user, values["grid"])
        if node is None:
            messages.error(request, _("No grid named “%s” in your area.") % values["grid"])
    elif values.get("node"):
        node = selectors.node_for_filter(request.user, values["node"])
    else:
        node = None
    qs = selectors.case_list(
        request.user,
        view=values.get("view") or "all",
        kind=values.get("kind") or "",
        status=values.get("status") or "",
        node=node,
        due_before=values.get("due_before"),
        overdue=bool(values.get("overdue")),
        queue=values.get("queue") or "",
        q=values.get("q") or "",
    )
    return form, qs, node, values


@scoped_view
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    form, qs, node, values = _filtered(request)
    if request.GET.get("export") == "xlsx" and not form.errors:
        return _export(request, qs)
    cursor = request.GET.get("after", "")
    total = None if cursor else selectors.case_list_total(qs)
    if cursor:
        qs = _after(qs, cursor)
    rows = list(qs.values(*ROW_COLUMNS)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("export", None)
    export_query = query.copy()
    export_query["export"] = "xlsx"
    if more:
        query["after"] = _cursor(rows[-1]["created_at"], rows[-1]["id"])
    template = "cases/_rows.html" if request.htmx else "cases/list.html"
    queue = selectors.QUEUES.get(values.get("queue") or "")
    return render(
        request,
        template,
        {
            "form": form,
            "cases": rows,
            "rows_html": _rows_html(rows),
            "total": total,
            "queue": queue,
            "next_query": query.urlencode() if more else "",
            "export_query": export_query.urlencode(),
            "node": node,
        },
        status=400 if form.errors else 200,
    )


# The columns a row of the list shows, read as plain values (no model instances).
ROW_COLUMNS = (
    "id", "created_at", "title", "kind", "status", "severity", "node__name", "responsible_unit__name", "due_at",
    "alert_level",
)  # fmt: skip
_PK = 2**62  # stands for a row's id in its link, reversed once per page


def _rows_html(rows: list[dict[str, Any]]) -> SafeString:
    """The list's rows, drawn in one pass from plain values: Django's template language resolved some
    fifteen variables per row, each through its lookup chain, and was most of the page's time. Every
    value is escaped; labels and the link pattern are worked out once per page."""
    labels = {
        name: {value: escape(label) for value, label in Case._meta.get_field(name).flatchoices}
        for name in ("kind", "status", "severity")
    }
    head = {
        key: escape(_(text))
        for key, text in (
            ("number", "Number"), ("title", "Title"), ("kind", "Kind"), ("status", "Status"), ("grid", "Grid"),
            ("unit", "Responsible unit"), ("due", "Due"),
        )
    }  # fmt: skip
    link = reverse("cases:detail", args=[_PK]).split(str(_PK))
    now = dt.datetime.now(dt.UTC)
    out = []
    for c in rows:
        pk = c["id"]
        href = f"{link[0]}{pk}{link[1]}"
        severity = c["severity"]
        badge = (
            f' <span class="badge sev-{escape(severity)}">{labels["severity"].get(severity, escape(severity))}</span>'
            if severity != "general"
            else ""
        )
        due = c["due_at"]
        if due:
            late = " overdue" if due < now else ""
            due_cell = f'<span class="badge alert-{c["alert_level"]}{late}">{timezone.localtime(due):%m-%d %H:%M}</span>'
        else:
            due_cell = "—"
        unit = c["responsible_unit__name"]
        out.append(
            f"""
<tr>
  <td data-label="{head["number"]}"><a href="{href}">{case_number(pk, c["created_at"])}</a></td>
  <td data-label="{head["title"]}"><a href="{href}">{escape(c["title"])}</a>{badge}</td>
  <td data-label="{head["kind"]}">{labels["kind"].get(c["kind"], escape(c["kind"]))}</td>
  <td data-label="{head["status"]}">{labels["status"].get(c["status"], escape(c["status"]))}</td>
  <td data-label="{head["grid"]}">{escape(c["node__name"])}</td>
  <td data-label="{head["unit"]}">{escape(unit) if unit else "—"}</td>
  <td data-label="{head["due"]}">{due_cell}</td>
</tr>"""
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def _export(request: HttpRequest, qs: Any) -> HttpResponse:
    """The filtered list as .xlsx, at most EXPORT_MAX rows: above that, a message and no file."""
    if qs.order_by().values("pk")[: selectors.EXPORT_MAX + 1].count() > selectors.EXPORT_MAX:
        messages.error(
            request,
            _("The list has more than %(max)s cases: narrow the filter to export it.")
            % {"max": selectors.EXPORT_MAX},
        )
        query = request.GET.copy()
        query.pop("export", None)
        return redirect(f"{reverse('cases:list')}?{query.urlencode()}")
    body = exports.case_workbook(selectors.case_export_rows(qs))
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="cases-{stamp}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@scoped_view
@login_required
def case_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable handling sheet (流转单) of one case: its facts, parties (masked) and every step."""
    case = selectors.case_get(request.user, pk)
    return render(
        request,
        "cases/sheet.html",
        {"case": case, "timeline": selectors.case_timeline(case), "printed_at": timezone.now()},
    )


@scoped_view
@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    initial = selectors.record_prefill(request.user, household=request.GET.get("household"))
    form = CaseRecordForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        node = values.pop("node")
        photo = values.pop("photo")
        uploads = [*([photo] if photo else []), *(values.pop("files") or [])]
        values["residents"] = list(values.get("residents") or [])
        try:
            case = services.case_record(actor=request.user, node=node, uploads=uploads, **values)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Case %s recorded.") % case.number)
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/new.html", {"form": form}, status=400 if form.errors else 200)


@scoped_view
@login_required
@require_http_methods(["GET", "POST"])
def case_from_visit(request: HttpRequest, visit_pk: int) -> HttpResponse:
    """Raise the case a visit called for: linked to the visit, at its plot, with its photos."""
    visit = selectors.visit_get(request.user, visit_pk)
    existing = selectors.case_of_visit(request.user, visit)
    if existing is not None:
        return redirect("cases:detail", pk=existing.pk)
    initial = {"description": "\n".join(p for p in (visit.seen, visit.heard) if p)}
    form = CaseFromVisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            case, _created = services.case_raise_from_visit(
                actor=request.user, visit=visit, **form.cleaned_data
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Case %s recorded.") % case.number)
            return redirect("cases:detail", pk=case.pk)
    return render(
        request, "cases/from_visit.html", {"form": form, "visit": visit}, status=400 if form.errors else 200
    )


@scoped_view
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    offered = rules.available(request.user, case)
    forms = [
        (
            t,
            ACTION_FORMS[t.name](
                user=request.user, case=case, initial={"version": case.version}, prefix=t.name
            ),
        )
        for t in offered
    ]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "timeline": selectors.case_timeline(case),
            "orders": selectors.case_orders(case),
            "may_supervise": case.is_open and supervision.may_issue(request.user, case),
            "grades": Grade.choices,
            "action_forms": forms,
            "upload_form": UploadForm(),
            "overdue": case.is_overdue(),
            "waiting_on_parts": case.status == "in_hand" and bool(rules.open_part_units(case)),
            "now": dt.datetime.now(dt.UTC),
        },
    )


@scoped_view
@login_required
@require_POST
def case_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    if action not in ACTION_FORMS:
        raise Http404
    form = ACTION_FORMS[action](request.POST, user=request.user, case=case, prefix=action)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("cases:detail", pk=case.pk)
    try:
        actions.perform(
            actor=request.user,
            case=case,
            action=action,
            data=form.to_data(),
            version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("cases:detail", pk=case.pk)
    except services.CaseConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done: %s.") % rules.TRANSITIONS[action].label)
    return redirect("cases:detail", pk=case.pk)


@scoped_view
@login_required
@require_POST
def case_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect("cases:detail", pk=case.pk)
    try:
        services.case_attach(actor=request.user, case=case, upload=form.upload)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("File added."))
    return redirect("cases:detail", pk=case.pk)


@scoped_view
@login_required
def case_file(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    """The only way to a case's file: through the case's scope, never a public URL."""
    attachment = selectors.attachment_get(request.user, pk, attachment_pk)
    handle = attachment.file.storage.open(attachment.file.name, "rb")
    inline = attachment.content_type.startswith("image/") or attachment.content_type == "application/pdf"
    response = FileResponse(
        handle, as_attachment=not inline, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@scoped_view
@login_required
def unit_people(request: HttpRequest) -> JsonResponse:
    """The people of one unit of the user's city, for the responsible-person list (field.js)."""
    people = selectors.unit_members(request.user, request.GET.get("unit"))
    return JsonResponse({"results": [{"id": p.pk, "name": str(p)} for p in people]})
