"""Sign-in throttling (django-axes) and the API token endpoint, in one place.

django-axes counts failed sign-ins per account and, separately, per client address, and locks either
out for a cool-off time once it reaches the limit (settings: AXES_*). The lockout answer is ours: a
Chinese page on the sign-in form, a Chinese JSON detail on the API, both 429.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from .throttling import AnonRateThrottle, ScopedRateThrottle


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-ins: this account or this address is locked for %(minutes)d minutes. "
        "Try again later, or ask your administrator to unlock it."
    ) % {"minutes": minutes}


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request (the sign-in page, the admin, the API
    token endpoint). A call without a request does not come from the network (the shell, the test
    client's `login()`): there is no address to count and nothing to throttle."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind AXES_TRUSTED_PROXIES reverse proxies the address
    the outermost trusted proxy saw (X-Forwarded-For read from the right, so a client cannot forge it)."""
    proxies = settings.AXES_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with a Chinese message, as JSON on the API, as a page elsewhere."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


class TokenThrottle(ScopedRateThrottle):
    scope_attr = "throttle_scope"


class TokenView(ObtainAuthToken):
    """POST /api/v1/auth/token/: a user's API token. Throttled per address (the "token" rate) and
    counted by django-axes like the sign-in page: a locked account or address gets 429."""

    throttle_classes = [AnonRateThrottle, TokenThrottle]
    throttle_scope = "token"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):
            return Response({"detail": lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
