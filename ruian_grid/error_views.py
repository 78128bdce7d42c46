"""Error answers in Chinese: pages that extend base.html for people, a JSON detail for the API.

They read nothing from the database themselves (the 500 page does not even run the context
processors, so it renders while the database is down).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _answer(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _api(request):
        return JsonResponse({"detail": message}, status=status)
    return render(
        request, "error.html", {"title": title, "message": message, "status": status}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(
        request, 400, _("Bad request"), _("The request could not be understood. Check what you sent.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, 403, _("Not allowed"), _("You may not do this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(
        request, 404, _("Page not found"), _("This page does not exist, or it is not yours to see.")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _answer(
        request,
        403,
        _("The page has expired"),
        _("The form was sent from an expired or foreign page. Reload the page and try again."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    message = _("Something went wrong on our side; it has been logged. Try again later.")
    if _api(request):
        return JsonResponse({"detail": message}, status=500)
    context = {"title": _("Server error"), "message": message, "status": 500}
    return HttpResponse(loader.get_template("error.html").render(context), status=500)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    megabytes = f"{limit / 1024 / 1024:.1f}"
    return _answer(
        request,
        413,
        _("Too large"),
        _("What you sent is larger than the %(size)s MB allowed.") % {"size": megabytes},
    )


class BodySizeMiddleware:
    """Refuse a body larger than allowed before anything reads it: DATA_UPLOAD_MAX_MEMORY_SIZE for
    forms and JSON (DRF's parsers read the stream and would not check it), MAX_UPLOAD_BYTES for
    multipart uploads (each upload kind checks its own, smaller, limit afterwards)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return bad_request(request)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return too_large(request, limit)
        return self.get_response(request)
