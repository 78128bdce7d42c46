"""The inbox page: the signed-in person's items, newest first; mark one or all read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from grids import scoping
from ruian_grid.scoped import scoped_view

from . import selectors, services

PAGE_SIZE = 50


@scoped_view
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    items = list(selectors.inbox_items(request.user, unread_only=unread)[:PAGE_SIZE])
    return render(request, "teams/inbox.html", {"items": items, "unread_only": unread})


@scoped_view
@login_required
@require_POST
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the item read and go to what it is about."""
    item = scoping.get_in_scope_or_404(selectors.inbox_items(request.user), pk=pk)
    services.inbox_mark_read(actor=request.user, item=item)
    if item.url and url_has_allowed_host_and_scheme(item.url, allowed_hosts={request.get_host()}):
        return redirect(item.url)
    return redirect("teams:inbox")


@scoped_view
@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    services.inbox_mark_all_read(actor=request.user)
    return redirect("teams:inbox")
