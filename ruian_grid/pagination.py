"""Keyset pagination for every list, API and pages. Kept apart from the view bases: DRF imports it while
building its views.

A page is "the next N rows after this row in the list's order", read from an index whose columns
match that order: the cost of a page does not depend on how deep it is or how much is in scope, and
nothing is counted. The position is the values of every ordering column of the boundary row (the last
one is unique, the primary key), and the filter carries a redundant bound on the first column,
`a >= x AND (a > x OR (a = x AND b > y))`, so PostgreSQL starts the index scan at the position
instead of filtering from the top.

The API answers `{"next", "previous", "results"}` (like the cases' cursor pagination); pages show a
"More" button that appends the next rows with htmx, and an exact count only when it is cheap
(`capped_count`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, Q, QuerySet, UniqueConstraint
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

COUNT_CAP = 1000


def _unique_in_scope(model: type[Model]) -> list[set[str]]:
    """Column sets unique among the rows one user sees (every scope is inside one tenant).

    From the model's unconditional unique constraints (less `tenant`), its unique fields, and a
    `KEYSET_UNIQUE` the model may declare for what the database does not enforce (the tree's lft).
    """
    meta = model._meta
    found: list[set[str]] = [{meta.pk.attname}]
    for constraint in meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.condition is None and constraint.fields:
            found.append({_field(model, f).attname for f in constraint.fields if f != "tenant"})
    found += [{f.attname} for f in meta.concrete_fields if f.unique]
    found += [set(names) for names in getattr(model, "KEYSET_UNIQUE", ())]
    return found


def ordering_of(qs: QuerySet[Any]) -> tuple[str, ...]:
    """The queryset's order, made unique: the primary key is added unless the order already is."""
    order = list(qs.query.order_by or qs.model._meta.ordering)
    for name in order:
        if not isinstance(name, str) or "__" in name or name.lstrip("-") == "?":
            raise ImproperlyConfigured(
                f"keyset ordering must be plain columns of {qs.model.__name__}: {order}"
            )
    columns = {_field(qs.model, o.lstrip("-")).attname for o in order}
    if not any(unique <= columns for unique in _unique_in_scope(qs.model)):
        last_desc = bool(order) and order[-1].startswith("-")
        order.append("-pk" if last_desc else "pk")
    return tuple(order)


def _field(model: type[Model], name: str) -> Any:
    meta = model._meta
    return meta.pk if name == "pk" else meta.get_field(name)


def position_of(
    row: Model | dict[str, Any], ordering: Sequence[str], model: type[Model] | None = None
) -> list[Any]:
    """The row's values for the ordering columns, as JSON-friendly values. A row read as values
    (ruian_grid.serializers.as_values) is a dict of the `model`'s columns."""
    values = []
    for name in ordering:
        if isinstance(row, dict):
            assert model is not None
            value = row[_field(model, name.lstrip("-")).attname]
        else:
            value = getattr(row, _field(type(row), name.lstrip("-")).attname)
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return values


def after_q(model: type[Model], ordering: Sequence[str], position: Sequence[Any], *, backwards: bool) -> Q:
    """Rows strictly after `position` in `ordering` (before it when `backwards`)."""
    if len(position) != len(ordering):
        raise ValidationError("bad position")
    names, values = [], []
    for name, raw in zip(ordering, position, strict=True):
        field = _field(model, name.lstrip("-"))
        value = field.to_python(raw)
        if value is None:
            raise ValidationError("bad position")
        names.append((field.attname, name.startswith("-") != backwards))
        values.append(value)
    strictly = Q()
    for i, (attname, descending) in enumerate(names):
        step = Q(**{f"{attname}__{'lt' if descending else 'gt'}": values[i]})
        for prior, value in zip(names[:i], values[:i], strict=False):
            step &= Q(**{prior[0]: value})
        strictly = step if i == 0 else strictly | step
    first, descending = names[0]
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]}) & strictly


def encode(position: Sequence[Any], *, backwards: bool = False) -> str:
    raw = json.dumps({"p": list(position), "b": backwards}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[list[Any], bool]:
    """The position and direction in a cursor; ValidationError for anything not made by `encode`."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, backwards = data["p"], bool(data.get("b", False))
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise ValidationError("bad cursor") from exc
    if not isinstance(position, list):
        raise ValidationError("bad cursor")
    return position, backwards


@dataclass
class Window:
    rows: list[Any]
    ordering: tuple[str, ...]
    has_more: bool  # rows beyond this window in its direction
    backwards: bool
    model: type[Model] | None = None

    def first_position(self) -> list[Any]:
        return position_of(self.rows[0], self.ordering, self.model)

    def last_position(self) -> list[Any]:
        return position_of(self.rows[-1], self.ordering, self.model)


def window(qs: QuerySet[Any], cursor: str | None, size: int) -> Window:
    """One page of `qs` (already ordered) after the cursor's position: one query, `size + 1` rows."""
    ordering = ordering_of(qs)
    backwards = False
    if cursor:
        position, backwards = decode(cursor)
        qs = qs.filter(after_q(qs.model, ordering, position, backwards=backwards))
    if backwards:
        qs = qs.order_by(*(o[1:] if o.startswith("-") else f"-{o}" for o in ordering))
    else:
        qs = qs.order_by(*ordering)
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return Window(rows=rows, ordering=ordering, has_more=has_more, backwards=backwards, model=qs.model)


def capped_count(qs: QuerySet[Any], cap: int = COUNT_CAP) -> int:
    """How many rows, counting no further than `cap + 1`: exact when small, bounded work when not."""
    return qs.order_by().values("pk")[: cap + 1].count()


# --- pages ----------------------------------------------------------------------------------------


@dataclass
class Page:
    """What a list page renders: its rows, the query string of the next page, a cheap count."""

    rows: list[Any]
    next_query: str
    count: int
    cap: int = COUNT_CAP

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def count_label(self) -> str:
        return f"{self.cap:,}+" if self.count > self.cap else str(self.count)


def page_of(request: HttpRequest, qs: QuerySet[Any], size: int, *, count: bool = True) -> Page:
    """The rows after `?after=` (forward only: "More" appends), with the next page's query string.

    A cursor that was not made here reads as the first page.
    """
    cursor = request.GET.get("after") or None
    try:
        found = window(qs, cursor, size)
    except ValidationError:
        found = window(qs, None, size)
    query: QueryDict = request.GET.copy()
    query.pop("after", None)
    next_query = ""
    if found.has_more and not found.backwards:
        query["after"] = encode(found.last_position())
        next_query = query.urlencode()
    return Page(rows=found.rows, next_query=next_query, count=capped_count(qs) if count else 0)


# --- API ------------------------------------------------------------------------------------------


class KeysetPagination(BasePagination):
    """`?cursor=` pages over the view's queryset order (plus the primary key): no COUNT, any depth."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    invalid_cursor_message = _("Invalid cursor")

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        try:
            found = window(queryset, request.query_params.get(self.cursor_query_param) or None, size)
        except ValidationError as exc:
            raise NotFound(self.invalid_cursor_message) from exc
        self.next_cursor = self.previous_cursor = None
        if found.rows:
            forward_more = found.has_more if not found.backwards else True
            backward_more = (
                found.has_more if found.backwards else bool(request.query_params.get(self.cursor_query_param))
            )
            if forward_more:
                self.next_cursor = encode(found.last_position())
            if backward_more:
                self.previous_cursor = encode(found.first_position(), backwards=True)
        return found.rows

    def get_page_size(self, request: Request) -> int:
        try:
            asked = int(request.query_params.get(self.page_size_query_param, self.page_size))
        except (TypeError, ValueError):
            return self.page_size
        return max(1, min(asked, self.max_page_size))

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        return self._link(self.next_cursor)

    def get_previous_link(self) -> str | None:
        if self.previous_cursor is None:
            return None
        return self._link(self.previous_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", data)]
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor value.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Number of results to return per page.",
                "schema": {"type": "integer"},
            },
        ]
