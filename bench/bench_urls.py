"""URL conf of the benchmarks only: the product's routes plus three bare views.

The bare view is the baseline of `make bench-http`: a request through the same gunicorn workers and
the whole middleware stack that does no work of its own. The bare API view and the bare page are the
floors of the API lists and of the pages in `make bench` (bench/run.py). Neither is ever part of the product's URL conf
(`ruian_grid.urls`); bench/bench_wsgi.py and bench/run.py point ROOT_URLCONF here for themselves alone.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def bare_page(request: HttpRequest) -> HttpResponse:
    """The floor of every page (bench/run.py): the site's frame (base.html: menu, header, the inbox
    badge) for a signed-in user, with nothing in it."""
    return render(request, "base.html")


class BareAPI(APIView):
    """The floor of every API list (bench/run.py): the project's API defaults (session and token
    sign-in, the user, the rate limit, content negotiation, JSON), no query and no rows."""

    def get(self, request: Request) -> Response:
        return Response({"next": None, "previous": None, "results": []})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-api/", BareAPI.as_view()),
    path("bench/bare-page/", bare_page),
    path("", include("ruian_grid.urls")),
]
