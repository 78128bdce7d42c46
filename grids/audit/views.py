"""The audit log page: newest first, keyset-paged (`?before=<id>`), only the reader's own subtree."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ruian_grid.scoped import scoped_view

from . import selectors

PAGE_SIZE = 50


@scoped_view
@login_required
@never_cache
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.audit_entries_for(request.user)
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(id__lt=int(before))
    rows = list(qs[: PAGE_SIZE + 1])
    entries, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return render(
        request,
        "audit/list.html",
        {"entries": entries, "next_before": entries[-1].pk if more else None, "paged": bool(before)},
    )
