"""Survey pages: the city's list and form, a survey's index per grid below a node, its .xlsx, the
printable QR codes of a township's cells, and the residents' public answer page /s/<token>/.

Thin: surveys come through `reports.survey.surveys_visible`, nodes through `grids.scoping` (out of scope
is the same 404 as missing), every change through a `reports.survey` use case. The public page reads
one link by its token and nothing else; it needs no sign-in, sets only the phone's random cookie and
carries no script.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grids import scoping
from grids.models import GridNode, Level
from ruian_grid.signin import client_ip

from . import survey
from .exports import workbook_response
from .survey_models import SCALE, SURVEY_MIN_RESPONSES, QuestionKind, Survey, SurveyStatus
from .views import page

QUESTION_ROWS = 5
DEFAULT_QUESTIONS = [
    ("您觉得您所在的村（社区）治安状况怎么样？", QuestionKind.SAFETY),
    ("您晚上独自在村（社区）里走动感到安全吗？", QuestionKind.SAFETY),
    ("您对本地平安建设工作满意吗？", QuestionKind.SATISFACTION),
    ("您对网格员（服务队）的走访服务满意吗？", QuestionKind.SATISFACTION),
]
SCALE_WORDS = {
    QuestionKind.SAFETY: (
        gettext_lazy("very unsafe"),
        gettext_lazy("unsafe"),
        gettext_lazy("so-so"),
        gettext_lazy("safe"),
        gettext_lazy("very safe"),
    ),
    QuestionKind.SATISFACTION: (
        gettext_lazy("very dissatisfied"),
        gettext_lazy("dissatisfied"),
        gettext_lazy("so-so"),
        gettext_lazy("satisfied"),
        gettext_lazy("very satisfied"),
    ),
}


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    period_start = forms.DateField(
        label=gettext_lazy("Answers from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=gettext_lazy("Answers until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, QUESTION_ROWS + 1):
            text, kind = (
                DEFAULT_QUESTIONS[i - 1] if i <= len(DEFAULT_QUESTIONS) else ("", QuestionKind.SATISFACTION)
            )
            self.fields[f"q{i}_text"] = forms.CharField(
                label=_("Question %(n)d") % {"n": i}, max_length=200, required=False, initial=text
            )
            self.fields[f"q{i}_kind"] = forms.ChoiceField(
                label=_("Scale of question %(n)d") % {"n": i}, choices=QuestionKind.choices, initial=kind
            )

    def questions(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        return [{"text": d[f"q{i}_text"], "kind": d[f"q{i}_kind"]} for i in range(1, QUESTION_ROWS + 1)]


def _may_manage(request: HttpRequest) -> bool:
    tenant_id = scoping.tenant_of(request.user)
    if tenant_id is None:
        return False
    from grids import tree

    return scoping.can(request.user, survey.MANAGE, tree.tenant_root(tenant_id))


@page
@require_http_methods(["GET", "POST"])
def surveys(request: HttpRequest) -> HttpResponse:
    """The city's surveys, newest first; the city's administrators set a new one here."""
    may_manage = _may_manage(request)
    form = SurveyForm(request.POST or None)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            from grids.models import Tenant

            try:
                created = survey.survey_create(
                    actor=request.user,  # type: ignore[arg-type]
                    tenant=Tenant(pk=scoping.tenant_of(request.user)),
                    title=form.cleaned_data["title"],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    questions=form.questions(),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, _("The survey is saved as a draft. Open it to give every cell its link.")
                )
                return redirect("reports:survey", pk=created.pk)
    items = list(survey.survey_list(request.user)[:200])
    return render(
        request,
        "reports/surveys.html",
        {"surveys": items, "form": form if may_manage else None, "statuses": dict(SurveyStatus.choices)},
    )


def _node_for(request: HttpRequest) -> GridNode:
    pk = request.GET.get("node") or getattr(request.user, "home_node_id", None)
    if pk in (None, ""):
        top = scoping.top_nodes(request.user).first()
        if top is None:
            raise Http404
        pk = top.pk
    return scoping.get_node_or_404(request.user, pk)


def _table(request: HttpRequest, item: Survey) -> tuple[GridNode, survey.IndexTable]:
    node = _node_for(request)
    if node.tenant_id != item.tenant_id:
        raise Http404
    return node, survey.index_by_child(request.user, item, node)


@page
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = scoping.get_in_scope_or_404(survey.surveys_visible(request.user), pk=pk)
    node, table = _table(request, item)
    return render(
        request,
        "reports/survey.html",
        {
            "survey": item,
            "questions": survey.questions_of(item),
            "status_label": dict(SurveyStatus.choices)[item.status],
            "node": node,
            "table": table,
            "minimum": SURVEY_MIN_RESPONSES,
            "may_manage": _may_manage(request),
            "codes_level": node.level == Level.TOWNSHIP,
            "children_are_townships": node.level + 1 == Level.TOWNSHIP,
            "ancestors": scoping.scope_nodes(request.user)
            .filter(scoping.ancestors_q(node))
            .order_by("level"),
        },
    )


@page
@require_POST
def survey_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Open or close the survey (the city's administrators)."""
    item = scoping.get_in_scope_or_404(survey.surveys_visible(request.user), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "open":
            survey.survey_open(actor=request.user, survey=item)  # type: ignore[arg-type]
            messages.success(request, _("The survey is open: every cell has its link."))
        elif action == "close":
            survey.survey_close(actor=request.user, survey=item)  # type: ignore[arg-type]
            messages.success(request, _("The survey is closed: its links take no more answers."))
        else:
            messages.error(request, _("Choose to open or to close the survey."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:survey", pk=item.pk)


@page
@require_GET
def survey_export(request: HttpRequest, pk: int) -> HttpResponse:
    item = scoping.get_in_scope_or_404(survey.surveys_visible(request.user), pk=pk)
    node, table = _table(request, item)
    header = [_("Grid"), _("Answers"), _("Index (0-100)"), _("Insufficient data")]
    rows = [
        [child.name, sums.responses, sums.index, _("yes") if sums.insufficient else ""]
        for child, sums in [*table.children, (node, table.total)]
    ]
    return workbook_response(f"survey-{item.pk}-{node.code}.xlsx", f"{item.title} {node.name}", header, rows)


def public_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("survey_answer", args=[token])


@page
@require_GET
def survey_codes(request: HttpRequest, pk: int, node: int) -> HttpResponse:
    """A printable sheet: each cell's link under a township (or one cell) with its QR code (SVG)."""
    import segno

    item = scoping.get_in_scope_or_404(survey.surveys_visible(request.user), pk=pk)
    target = scoping.get_node_or_404(request.user, node)
    if target.tenant_id != item.tenant_id or target.level not in (Level.TOWNSHIP, Level.CELL):
        raise Http404
    cards = []
    for link in survey.links_in_scope(request.user, item, target):
        url = public_url(link.token)
        svg = segno.make(url, error="m").svg_inline(scale=4, title=link.node.name)
        cards.append((link, url, svg))
    return render(request, "reports/survey_codes.html", {"survey": item, "node": target, "cards": cards})


# --- the residents' public page ------------------------------------------------------------------


def _questions_with_scale(item: Survey, chosen: Any) -> list[tuple[Any, list[tuple[int, str, bool]]]]:
    """Each question with its five choices, the resident's earlier choice kept after a refusal."""
    out = []
    for q in survey.questions_of(item):
        words = SCALE_WORDS[QuestionKind(q.kind)]
        picked = chosen.get(f"q{q.pk}")
        out.append((q, [(v, str(w), picked == str(v)) for v, w in zip(SCALE, words, strict=True)]))
    return out


def _set_device(request: HttpRequest, response: HttpResponse, device: str) -> None:
    if request.COOKIES.get(survey.DEVICE_COOKIE) != device:
        response.set_cookie(
            survey.DEVICE_COOKIE,
            device,
            max_age=survey.DEVICE_COOKIE_AGE,
            path="/s/",
            secure=not settings.DEBUG,
            httponly=True,
            samesite="Lax",
        )


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The survey of one cell, answered anonymously on a phone (no sign-in)."""
    link = survey.link_for_token(token)
    if link is None:
        raise Http404
    item = link.survey
    device = request.COOKIES.get(survey.DEVICE_COOKIE) or ""
    context: dict[str, Any] = {"survey": item, "cell": link.node, "honeypot": survey.HONEYPOT}
    status = 200
    if request.method == "POST":
        try:
            survey.response_submit(
                link=link,
                device=device,
                form=request.POST.get("form", ""),
                honeypot=request.POST.get(survey.HONEYPOT, ""),
                answers={k: request.POST.get(k, "") for k in request.POST if k.startswith("q")},
                address=client_ip(request),
            )
        except survey.SurveyRefused as refused:
            context["refused"] = refused.message
            status = refused.status
        else:
            response = render(request, "reports/survey_thanks.html", context)
            return response
    if not survey.is_open(item):
        context["closed"] = True
        status = status if status != 200 else 410
    else:
        context["questions"] = _questions_with_scale(item, request.POST)
        context["form_token"] = survey.form_token(link)
    response = render(request, "reports/survey_public.html", context, status=status)
    _set_device(request, response, device or survey.new_device_token())
    return response
