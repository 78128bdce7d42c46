"""A dashboard as plain data: what the API returns and what the page hands to its charts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import selectors
from .selectors import Dashboard

FIGURE_LABELS: dict[str, Any] = {
    "incidents": _("Criminal and public-order incidents"),
    "hazards": _("Safety hazards"),
    "petitions": _("Petitions"),
    "satisfaction": _("Satisfaction at close-out (%)"),
    "open": _("Open at month end"),
    "overdue": _("Went overdue"),
    "closed": _("Closed"),
    "on_time_rate": _("Closed on time (%)"),
    "cards": _("Supervision cards"),
    "households": _("Households"),
    "visited": _("Households visited"),
    "visit_coverage": _("Visit coverage (%)"),
    "plots": _("Plots"),
    "plots_covered": _("Plots with a responsible person"),
    "plot_coverage": _("Plots with a responsible person (%)"),
    "survey_index": _("Sense of safety and satisfaction index (survey, 0-100)"),
    "survey_responses": _("Survey answers"),
}
OUTCOME_NAMES = ("incidents", "hazards", "petitions", "satisfaction", "survey_index")


def node_dict(node: Any) -> dict[str, Any]:
    return {
        "id": node.pk,
        "name": node.name,
        "code": node.code,
        "kind": node.kind,
        "level": node.level,
        "url": reverse("reports:node", args=[node.pk]),
    }


def dashboard_payload(dash: Dashboard, *, with_map: bool = True) -> dict[str, Any]:
    t = dash.total
    month = f"{dash.month:%Y-%m}"
    data: dict[str, Any] = {
        "node": node_dict(dash.node),
        "month": month,
        "months": dash.months,
        "outcomes": {name: dash.outcomes[name].as_dict() for name in OUTCOME_NAMES},
        "satisfaction_source": "case_closeout",
        "cases": {
            "open": t.open,
            "overdue": t.overdue,
            "closed": t.closed,
            "closed_on_time": t.closed_on_time,
            "on_time_rate": t.on_time_rate,
        },
        "cards": {"yellow": t.yellow_cards, "red": t.red_cards},
        "visits": {"households": t.households, "visited": t.visited, "coverage": t.visit_coverage},
        "plots": {"plots": t.plots, "covered": t.plots_covered, "coverage": t.plot_coverage},
        "children": [
            {
                **node_dict(child),
                "url": reverse("reports:node", args=[child.pk]) + f"?month={month}",
                **row.figures(),
            }
            for child, row in dash.children
        ],
        "labels": {k: str(v) for k, v in FIGURE_LABELS.items()},
    }
    if with_map:
        data["map"] = selectors.boundaries(dash)
    return data
