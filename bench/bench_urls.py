"""URL conf of the benchmark server only (bench/http_load.py): the product's routes plus one bare view.

The bare view is the baseline of `make bench-http`: a request through the same gunicorn workers and
the whole middleware stack that does no work of its own. It is never part of the product's URL conf
(`ruian_grid.urls`); bench/bench_wsgi.py points ROOT_URLCONF here for the benchmark server alone.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("ruian_grid.urls")),
]
