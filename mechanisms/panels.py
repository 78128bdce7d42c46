"""The workbench panel of the mechanisms: what waits for this user (counts from the selectors)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from ruian_grid.workbench import Item, Panel, panel

from . import selectors


@panel("mechanisms.waiting", order=30)
def waiting(request: HttpRequest) -> Panel | None:
    user = request.user
    if not user.is_authenticated:
        return None
    to_sign = selectors.reviews_to_sign(user).count()
    to_ack = selectors.warnings_to_acknowledge(user).count()
    drafts = selectors.drafts_to_review(user).count()
    decisions = selectors.decisions_of_my_units(user).count()
    index = reverse("mechanisms:index")
    return Panel(
        title=_("Working mechanisms"),
        items=[
            Item(_("Reviews to sign off"), to_sign, reverse("mechanisms:reviews"), "warn" if to_sign else ""),
            Item(
                _("Warnings to acknowledge"),
                to_ack,
                reverse("mechanisms:warnings"),
                "danger" if to_ack else "",
            ),
            Item(_("Early-warning drafts"), drafts, reverse("mechanisms:drafts")),
            Item(_("Meeting decisions of my units"), decisions, index),
        ],
        order=30,
    )
