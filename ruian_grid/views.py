"""Cross-cutting views: the health check."""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from kombu.exceptions import OperationalError as BrokerError

from .celery import app as celery_app


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
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {k: "ok" if v else "down" for k, v in checks.items()},
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if not failing else 503)
