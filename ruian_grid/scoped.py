"""Scoped base classes for every interface: DRF views, pages and admin.

Their `get_queryset()` must come from a selector (which has gone through `grids.scoping`), so an
out-of-scope id is the same 404 as a missing one everywhere. `tests/test_url_scoping.py` walks the URL
resolver and fails on any view that is neither built on these nor on its short allowlist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from rest_framework import viewsets

from .serializers import as_values

F = TypeVar("F", bound=Callable[..., Any])


def scoped_view(view: F) -> F:
    """Mark a function view whose every read goes through a selector."""
    view.scoped = True  # type: ignore[attr-defined]
    return view


class ScopedAPIMixin:
    """For DRF views: subclasses implement `get_queryset()` by calling a selector with request.user."""

    scoped = True

    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__name__} must return a selector's queryset")

    def paginate_queryset(self, queryset: QuerySet[Any]) -> Any:
        # A list page is read as plain values when its serializer allows (ruian_grid.serializers).
        if getattr(self, "action", None) == "list":
            order = getattr(self.paginator, "ordering", None) or ()  # type: ignore[attr-defined]
            order = (order,) if isinstance(order, str) else tuple(order)
            queryset = as_values(queryset, self.get_serializer_class(), order)  # type: ignore[attr-defined]
        return super().paginate_queryset(queryset)  # type: ignore[misc]


class ScopedReadOnlyViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedAPIMixin, viewsets.ModelViewSet):
    pass


class ScopedPageMixin(LoginRequiredMixin):
    """For class-based pages: sign-in required and a selector-backed `get_queryset()`."""

    scoped = True
