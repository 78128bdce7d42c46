"""What every input path accepts, written once: text without control characters, ids that fit a key.

- Control characters (U+0000–U+001F except tab and line breaks, U+007F–U+009F) are refused in every
  text field of every form and serializer: `install()` (run from the app config) gives every
  Django `forms.CharField` and DRF `CharField` one more validator, so a field written later is covered without anyone
  listing it. Imports call `refuse_control_characters` on each cell; exports still pass every cell
  through `printable` (a row stored before this check, or by the admin shell, must not break a file).
- Ids in filters and request bodies are whole numbers from 1 to the largest key (`IdFilter`,
  `IdField`): `?plot=1e20` is a 400 naming the parameter, not an overflow deep in the database driver.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import django_filters as df
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ID_MAX = 2**63 - 1  # the largest BigAutoField key (and SQLite's INTEGER)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = _("Remove the control characters (invisible characters pasted with the text).")


def refuse_control_characters(value: Any) -> None:
    """A validator: text may hold tabs and line breaks, never other control characters."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")


def printable(value: Any) -> Any:
    """A spreadsheet cell without the characters .xlsx cannot hold; other values pass unchanged."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def install() -> None:
    """Every text field of every form and serializer refuses control characters (idempotent).

    Added at construction, the way Django and DRF add their own NUL-character validator, so it holds
    for fields a ModelSerializer builds with the model's validators too."""
    for field_class in (forms.CharField, serializers.CharField):
        if getattr(field_class.__init__, "refuses_control_characters", False):
            continue
        field_class.__init__ = _appending_validator(field_class.__init__)  # type: ignore[method-assign]


def _appending_validator(init: Any) -> Any:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.validators.append(refuse_control_characters)

    __init__.refuses_control_characters = True  # type: ignore[attr-defined]
    return __init__


ID_MESSAGES: dict[str, str | StrPromise] = {
    "invalid": _("Enter an id: a whole number above zero."),
    "min_value": _("Enter an id: a whole number above zero."),
    "max_value": _("No such id: the number is too large."),
}


class IdFormField(forms.IntegerField):
    default_error_messages = ID_MESSAGES

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class IdFilter(df.NumberFilter):
    """A filter on a foreign key's id: anything but a key-sized whole number is a 400."""

    field_class = IdFormField


class IdField(serializers.IntegerField):
    """A request body's reference to a row by id (the row itself is looked up in scope)."""

    default_error_messages = {
        "invalid": ID_MESSAGES["invalid"],
        "min_value": ID_MESSAGES["min_value"],
        "max_value": ID_MESSAGES["max_value"],
    }

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)
