"""The project's URLs plus one view that fails, to see the 500 page (tests only)."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from ruian_grid.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def denied(request):
    raise PermissionDenied("not yours")


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("denied/", denied), path("boom/", boom), path("api/v1/boom/", boom), *urlpatterns]
