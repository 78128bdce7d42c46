"""URL conf of the benchmarks only: the product's routes plus two bare views.

The bare view is the baseline of `make bench-http`: a request through the same gunicorn workers and
the whole middleware stack that does no work of its own. The bare API view is the floor of the API
lists in `make bench` (bench/run.py). Neither is ever part of the product's URL conf
(`ruian_grid.urls`); bench/bench_wsgi.py and bench/run.py point ROOT_URLCONF here for themselves alone.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


class BareAPI(APIView):
    """The floor of every API list (bench/run.py): the project's API defaults (session and token
    sign-in, the user, the rate limit, content negotiation, JSON), no query and no rows."""

    def get(self, request: Request) -> Response:
        return Response({"next": None, "previous": None, "results": []})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-api/", BareAPI.as_view()),
    path("", include("ruian_grid.urls")),
]
