"""Supervision pages: orders per tier with filters and an .xlsx export, one order with reply and
review, and issuing an order by hand from the case page. Thin over selectors and cases.supervision."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ruian_grid.inputs import IdFormField
from ruian_grid.scoped import scoped_view

from . import selectors, supervision
from .models import Grade, OrderStatus, Tier

PAGE_SIZE = 50


class OrderFilterForm(forms.Form):
    tier = forms.ChoiceField(
        label=gettext_lazy("issued by tier"), choices=[("", "—"), *Tier.choices], required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("status"), choices=[("", "—"), *OrderStatus.choices], required=False
    )
    grade = forms.TypedChoiceField(
        label=gettext_lazy("grade"),
        choices=[("", "—"), *Grade.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    township = IdFormField(label=gettext_lazy("township"), required=False, widget=forms.HiddenInput)
    unit = IdFormField(label=gettext_lazy("unit"), required=False)


def _filtered(request: HttpRequest) -> tuple[OrderFilterForm, Any]:
    form = OrderFilterForm(request.GET or None)
    values: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    qs = selectors.order_list(
        request.user,
        status=values.get("status") or "",
        grade=values.get("grade"),
        tier=values.get("tier") or "",
        township=values.get("township"),
        unit=values.get("unit"),
    )
    return form, qs


@scoped_view
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return render(
        request,
        "cases/supervision.html",
        {
            "form": form,
            "orders": list(qs[:PAGE_SIZE]),
            "awaiting_review": list(
                selectors.order_list(request.user, status=OrderStatus.REPLIED)[:PAGE_SIZE]
            ),
            "cards": list(selectors.cards_by_unit(request.user, since=month)[:30]),
            "overdue": list(selectors.overdue_by_unit(request.user, since=month)[:30]),
            "now": timezone.now(),
            "query": request.GET.urlencode(),
        },
    )


@scoped_view
@login_required
def order_export(request: HttpRequest) -> HttpResponse:
    """The filtered orders as an .xlsx workbook (at most 10,000 rows)."""
    from openpyxl import Workbook

    _form, qs = _filtered(request)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Supervision orders"))
    sheet.append(
        [_("Order"), _("Case"), _("Grade"), _("Tier"), _("Unit"), _("Status"), _("Issued at"), _("Reply due")]
    )
    for o in qs[:10000]:
        sheet.append(
            [
                o.pk,
                o.about_title,
                str(o.get_grade_display()),
                str(o.get_tier_display()),
                o.unit.name if o.unit else "",
                str(o.get_status_display()),
                timezone.localtime(o.created_at).replace(tzinfo=None),
                timezone.localtime(o.reply_due_at).replace(tzinfo=None),
            ]
        )
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="supervision-{timezone.localdate():%Y%m%d}.xlsx"'
    return response


@scoped_view
@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_get(request.user, pk)
    if request.method == "POST":
        what = request.POST.get("do")
        try:
            if what == "reply":
                supervision.order_reply(actor=request.user, order=order, reply=request.POST.get("reply", ""))
                messages.success(request, _("Your reply was sent."))
            elif what in ("accept", "return"):
                supervision.order_review(
                    actor=request.user,
                    order=order,
                    accept=what == "accept",
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("The review was recorded."))
            return redirect("cases:order", pk=order.pk)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)
    return render(
        request,
        "cases/order.html",
        {
            "order": order,
            "may_reply": order.status == OrderStatus.OPEN and supervision._may_reply(request.user, order),
            "may_review": order.status == OrderStatus.REPLIED
            and supervision.may_review(request.user, order, order.case if order.case_id else None),
        },
    )


@scoped_view
@login_required
@require_POST
def order_issue(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    try:
        grade = int(request.POST.get("grade", "0") or 0)
        order = supervision.order_issue(
            actor=request.user, case=case, grade=grade, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied, ValueError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or _("Choose ordinary, yellow card or red card."))
        return redirect("cases:detail", pk=case.pk)
    messages.success(request, _("The supervision order was issued."))
    return redirect("cases:order", pk=order.pk)
