"""Cross-cutting views: where a user lands after signing in, and the health check."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from kombu.exceptions import OperationalError as BrokerError

from grids import selectors as grid_selectors

from . import workbench
from .celery import app as celery_app
from .scoped import scoped_view


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTHZ_BROKER_TIMEOUT)
        return True
    except (BrokerError, OSError, ConnectionError, TimeoutError):
        return False


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming the part that does not."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    failing = sorted(name for name, ok in checks.items() if not ok)
    body: dict[str, object] = {
        "status": "ok" if not failing else "unavailable",
        "checks": {k: "ok" if v else "down" for k, v in checks.items()},
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if not failing else 503)


@scoped_view
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The workbench (工作台): every app's panels that apply to this user, each count opening its list.

    The page renders whatever `workbench.panels_for` returns; apps add panels in their `panels.py`."""
    return render(request, "workbench.html", {"panels": workbench.panels_for(request)})


@scoped_view
@login_required
def grid_home(request: HttpRequest) -> HttpResponse:
    """The grid from the user's home node down; people who hold no grid (department staff) land on
    the cases sent to their unit."""
    node = grid_selectors.home_node(actor=request.user)
    if node is not None:
        return redirect("grids:node", pk=node.pk)
    return redirect("cases:list")
