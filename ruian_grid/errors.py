"""Turning domain errors raised by services into interface answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler


def drf_detail(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if name == NON_FIELD_ERRORS else name): list(messages)
            for name, messages in exc.message_dict.items()
        }
    return list(exc.messages)


@contextmanager
def service_errors_as_400() -> Iterator[None]:
    """Inside an API view: a service's ValidationError becomes a 400 naming the field."""
    try:
        yield
    except DjangoValidationError as exc:
        raise serializers.ValidationError(drf_detail(exc)) from exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, except that a 404 always reads the same (in the user's language): Django's
    "No Household matches the given query." would name the model in English and tell "missing"
    from "not yours" apart by wording."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return exception_handler(exc, context)
