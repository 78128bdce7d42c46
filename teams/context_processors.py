"""The unread count in every page's header: one count over the partial index of unread items."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import selectors


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that do not render the header (htmx fragments) run no query.
    return {"inbox_unread": SimpleLazyObject(lambda: selectors.inbox_unread_count(user))}
