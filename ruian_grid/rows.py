"""List rows drawn in Python: for the lists whose rows are most of a page's time.

Django's template language resolves each `{{ row.field }}` through its lookup chain (dict, attribute,
index, callable) and escapes it on the way out; a page of 30-50 rows of 7-9 cells made that the largest
single cost of the case, household and resident lists. The rows are the same HTML, escaped value by
value; what is the same for every row (a link's pattern, choice labels, column labels) is worked out
once per page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Field, Model
from django.urls import reverse
from django.utils.html import escape

_PK = 2**62  # stands for a row's id while its link's pattern is reversed


def link_to(viewname: str) -> Callable[[Any], str]:
    """`reverse(viewname, args=[pk])` as a function of the pk, reversed once."""
    before, after = reverse(viewname, args=[_PK]).split(str(_PK))
    return lambda pk: f"{before}{pk}{after}"


def labels_of(model: type[Model], name: str) -> dict[Any, str]:
    """The field's choice labels, translated in the request's language and escaped."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return {value: escape(label) for value, label in field.flatchoices}


def or_dash(value: Any) -> str:
    """As `{{ value|default:"—" }}`, escaped."""
    return escape(value) if value else "—"
