"""Workbench panel of supervision (imported by CasesConfig.ready): the open orders addressed to my
unit, the orders my tier issued still awaiting a reply, and the replies awaiting my tier's review.
Each count is one query over an index of the orders (unit, or tenant and the tier's ancestor column)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from ruian_grid.workbench import Item, Panel, panel

from . import selectors
from .models import OrderStatus


@panel("cases.supervision", order=15)
def supervision(request: HttpRequest) -> Panel | None:
    """Shown to whoever has orders addressed to them or issues orders at a tier."""
    user = request.user
    base = reverse("cases:orders")
    tiers = selectors.issuing_tiers(user)
    addressed = selectors.orders_addressed_to_me(user).filter(status=OrderStatus.OPEN).count()
    items = []
    if addressed or not tiers:
        items.append(
            Item(
                _("Orders to my unit"),
                addressed,
                f"{base}?{urlencode({'status': OrderStatus.OPEN})}",
                tone="danger" if addressed else "",
            )
        )
    if tiers:
        tier = tiers[0][0]
        mine = selectors.orders_of_my_tier(user)
        waiting = mine.filter(status=OrderStatus.OPEN).count()
        replies = mine.filter(status=OrderStatus.REPLIED).count()
        items += [
            Item(
                _("Issued, awaiting reply"),
                waiting,
                f"{base}?{urlencode({'status': OrderStatus.OPEN, 'tier': tier})}",
            ),
            Item(
                _("Replies to review"),
                replies,
                f"{base}?{urlencode({'status': OrderStatus.REPLIED, 'tier': tier})}",
                tone="warn" if replies else "",
            ),
        ]
    if not tiers and not addressed:
        return None
    return Panel(title=_("Supervision"), items=items, links=[(_("All supervision orders"), base)], order=15)
