"""Dashboard pages: /reports/ (the user's home node) and /reports/<node>/ (any node in scope).

Thin: the node comes through `grids.scoping` (out of scope is the same 404 as missing), every figure
from `reports.selectors`. The figures are rendered on the server; the charts and the map are drawn by
static/reports/dashboard.js from the `<script type="application/json">` block (no inline script).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from grids import scoping
from grids.models import GridNode
from ruian_grid.scoped import scoped_view

from . import selectors
from .payload import FIGURE_LABELS, OUTCOME_NAMES, dashboard_payload


def page(view):  # type: ignore[no-untyped-def]
    return scoped_view(login_required(view))


@page
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard of the user's home node (or of the first node they may see). A user who may see
    no grid (a member department's staff) gets the report pages that are theirs instead of a 404."""
    home = getattr(request.user, "home_node_id", None)
    if home is None:
        top = scoping.top_nodes(request.user).first()
        if top is None:
            return render(request, "reports/no_grid.html")
        home = top.pk
    target = scoping.get_node_or_404(request.user, home)
    query = f"?month={request.GET['month']}" if request.GET.get("month") else ""
    return redirect(f"/reports/{target.pk}/{query}")


@page
@require_GET
def node(request: HttpRequest, pk: int) -> HttpResponse:
    target: GridNode = scoping.get_node_or_404(request.user, pk)
    try:
        month = selectors.parse_month(request.GET.get("month"))
    except selectors.MonthError:
        month = selectors.parse_month(None)
    dash = selectors.dashboard(actor=request.user, node=target, month=month)
    data = dashboard_payload(dash)
    return render(
        request,
        "reports/dashboard.html",
        {
            "dash": dash,
            "data": data,
            "outcomes": [(name, FIGURE_LABELS[name], data["outcomes"][name]) for name in OUTCOME_NAMES],
            "columns": list(FIGURE_LABELS.items()),
            "rows": [
                (c, [(key, label, c[key]) for key, label in FIGURE_LABELS.items()]) for c in data["children"]
            ],
            "months": selectors.month_choices(),
            "month": data["month"],
            "ancestors": scoping.scope_nodes(request.user)
            .filter(scoping.ancestors_q(target))
            .order_by("level"),
        },
    )


# --- assessment pages and exports -----------------------------------------------------------------

from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from .exports import workbook_response  # noqa: E402
from .models import Source, VetoStatus  # noqa: E402


def _ranked(cards: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return sorted(cards, key=lambda c: (c["rank"] is None, c["rank"] or 0, c["unit"]["code"]))


@page
@require_GET
def rounds(request: HttpRequest) -> HttpResponse:
    items = selectors.rounds_visible(request.user).order_by("-created_at", "-id")[:200]
    return render(request, "reports/rounds.html", {"rounds": items})


@page
@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = scoping.get_in_scope_or_404(selectors.rounds_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, rnd)
    cards = _ranked(data["scorecards"])
    return render(request, "reports/round.html", {"round": rnd, "data": data, "cards": cards})


@page
@require_GET
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = scoping.get_in_scope_or_404(selectors.scorecards_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, card.round)
    mine = next(c for c in data["scorecards"] if c["id"] == card.pk)
    ids: set[int] = set()
    for part in [*mine["lines"], *mine["vetoes"]]:
        for key, rows in part["evidence"].items():
            if isinstance(rows, list) and key != "orders":
                ids.update(rows)
    cases = {c.pk: c for c in selectors.evidence_cases(request.user, sorted(ids))[:2000]}

    def listed(evidence: dict) -> list:  # type: ignore[type-arg]
        out = []
        for key, rows in evidence.items():
            if isinstance(rows, list) and key != "orders":
                out.append((key, [cases[i] for i in rows if i in cases]))
        return out

    sources, statuses = dict(Source.choices), dict(VetoStatus.choices)
    lines = [
        ({**line, "source_label": sources.get(line["source"], "")}, listed(line["evidence"]))
        for line in mine["lines"]
    ]
    vetoes = [
        ({**hit, "status_label": statuses.get(hit["status"], "")}, listed(hit["evidence"]))
        for hit in mine["vetoes"]
    ]
    return render(
        request,
        "reports/scorecard.html",
        {"round": card.round, "data": data, "card": mine, "lines": lines, "vetoes": vetoes},
    )  # fmt: skip


@page
@require_GET
def dashboard_export(request: HttpRequest, pk: int) -> HttpResponse:
    target: GridNode = scoping.get_node_or_404(request.user, pk)
    try:
        month = selectors.parse_month(request.GET.get("month"))
    except selectors.MonthError:
        month = selectors.parse_month(None)
    data = dashboard_payload(
        selectors.dashboard(actor=request.user, node=target, month=month), with_map=False
    )
    header = [_("Grid"), *[str(label) for label in FIGURE_LABELS.values()]]
    rows = [[c["name"], *[c[key] for key in FIGURE_LABELS]] for c in data["children"]]
    return workbook_response(
        f"dashboard-{target.code}-{data['month']}.xlsx",
        f"{target.name} {data['month']}",
        header,
        rows,
    )


@page
@require_GET
def round_export(request: HttpRequest, pk: int) -> HttpResponse:
    rnd = scoping.get_in_scope_or_404(selectors.rounds_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, rnd)
    indicators = data["scheme"]["indicators"]
    header = [
        _("Rank"), _("Township"), _("Total"), _("Vetoed"), _("Insufficient data"),
        *[f"{i['name']} ({i['weight']})" for i in indicators],
    ]  # fmt: skip
    rows = []
    for c in _ranked(data["scorecards"]):
        by_indicator = {line["indicator"]: line for line in c["lines"]}
        rows.append(
            [c["rank"], c["unit"]["name"], c["total"], _("yes") if c["vetoed"] else "",
             _("yes") if c["insufficient"] else "",
             *[by_indicator[i["id"]]["weighted"] if i["id"] in by_indicator else None for i in indicators]]
        )  # fmt: skip
    return workbook_response(f"assessment-{rnd.pk}.xlsx", rnd.name, header, rows)


@page
@require_GET
def scorecard_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from .pdf import pdf_response

    card = scoping.get_in_scope_or_404(selectors.scorecards_visible(request.user), pk=pk)
    data = selectors.round_view(request.user, card.round)
    mine = next(c for c in data["scorecards"] if c["id"] == card.pk)
    statuses = dict(VetoStatus.choices)
    mine = {**mine, "vetoes": [{**h, "status_label": statuses.get(h["status"], "")} for h in mine["vetoes"]]}
    return pdf_response(
        "reports/pdf/scorecard.html",
        {"round": card.round, "data": data, "card": mine},
        f"scorecard-{card.round_id}-{card.unit.code if card.unit else card.pk}.pdf",
    )


def _held(seconds: float) -> str:
    hours = int(seconds // 3600)
    return f"{hours // 24}天{hours % 24}小时" if hours >= 24 else f"{hours}小时{int(seconds % 3600 // 60)}分"


@page
@require_GET
def case_sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A case's handling sheet (流转单): the case and its timeline, with how long each step held it."""
    from cases import selectors as case_selectors

    from .pdf import pdf_response

    case = case_selectors.case_get(request.user, pk)
    events = list(case_selectors.case_timeline(case))
    rows = []
    for i, event in enumerate(events):
        until = events[i + 1].at if i + 1 < len(events) else (case.closed_at or timezone.now())
        rows.append((event, _held(max(0.0, (until - event.at).total_seconds()))))
    return pdf_response("reports/pdf/case_sheet.html", {"case": case, "events": rows}, f"case-{case.pk}.pdf")
