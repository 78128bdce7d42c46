"""Turning domain errors raised by services into interface answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


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
