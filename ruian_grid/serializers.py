"""Lean list serialisation: the same JSON as DRF's serializers, a fraction of the Python.

DRF serialises each field of each row through `Field.get_attribute` (a try/except and an
`inspect`-based callable check per step of the source), a `PKOnlyObject` for every foreign key and
an ordered dict per row: for a page of 50 cases that was a third of the request. `LeanListSerializer`
works the plan out once per page from the child serializer's own fields (so the OpenAPI document,
built from those fields, stays the description of what is sent) and then, per row, only reads the
attribute and calls the field's `to_representation`. `tests/test_lean_serializers.py` checks that
every list using it answers exactly what DRF's serializer would.

Lists go one step further when every field can be read from columns: `as_values` turns the page's
queryset into `values()` of exactly those columns (no model instance is built, no related row loaded
whole), and the rows are serialised from the dicts. A field that is not a column path (a property, a
method field) is read through the child serializer's `lean_values`: the columns it needs and a
function of the row giving its JSON value (normally the model's own code, written as a function of
those columns). A serializer whose every field cannot be read that way keeps the instance path.

Handled: plain model fields and dotted sources (a missing step gives the field's default or None,
as DRF does), callables on the way (`source="person.__str__"`), primary-key related fields (read
from the `<name>_id` column, no object loaded) and `SerializerMethodField`. Anything else (nested
serializers, `source="*"` fields) falls back to the field's own `get_attribute`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField

Getter = Callable[[Any], Any]


# Per serializer class: (field name, getter, or the name of a method of the serializer). Building a
# ModelSerializer's fields is itself costly, so the plan is made once per process; method fields are
# looked up on each page's own serializer (they may read its context), and a plan with any field
# that needs its serializer's context (the general path) is not kept.
Plan = list[tuple[str, Getter | None, str | None]]
_PLANS: dict[type, Plan] = {}


def _plan(child: serializers.Serializer) -> Plan:
    kept = _PLANS.get(type(child))
    if kept is not None:
        return kept
    plan: Plan = []
    keep = True
    model = getattr(getattr(child, "Meta", None), "model", None)
    for field in child._readable_fields:
        if isinstance(field, serializers.SerializerMethodField):
            plan.append((str(field.field_name), None, field.method_name))
            continue
        getter, shareable = _getter(field, model)
        keep = keep and shareable
        plan.append((str(field.field_name), getter, None))
    if keep:
        _PLANS[type(child)] = plan
    return plan


def _getter(field: Any, model: Any) -> tuple[Getter, bool]:
    """How to read one field of a row, and whether that can serve every later page."""
    to_repr = field.to_representation
    attrs = field.source_attrs
    if isinstance(field, PrimaryKeyRelatedField) and field.pk_field is None and len(attrs) == 1 and model:
        attname = model._meta.get_field(attrs[0]).attname
        return (lambda row: getattr(row, attname)), True
    if not attrs or isinstance(field, serializers.BaseSerializer):

        def general(row: Any) -> Any:
            value = field.get_attribute(row)
            check = value.pk if isinstance(value, PKOnlyObject) else value
            return None if check is None else to_repr(value)

        return general, False
    default = None if field.default is empty else field.default
    if len(attrs) == 1:
        (name,) = attrs

        def one(row: Any) -> Any:
            value = getattr(row, name)
            if callable(value) and not isinstance(value, type):
                value = value()
            return None if value is None else to_repr(value)

        return one, True

    def walk(row: Any) -> Any:
        value = row
        for name in attrs:
            if value is None:
                value = default
                break
            value = getattr(value, name)
            if callable(value) and not isinstance(value, type):
                value = value()
        return None if value is None else to_repr(value)

    return walk, True


# --- rows as plain values ----------------------------------------------------------------------------

RowReader = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class ValuesPlan:
    """The columns a list's rows are read as (`values()` lookups) and how each field is made of them."""

    lookups: tuple[str, ...]
    annotations: frozenset[str]  # lookups that are the queryset's annotations, not model fields
    readers: tuple[tuple[str, RowReader], ...]


_VALUES_PLANS: dict[type, ValuesPlan | None] = {}


def values_plan(serializer_class: type[serializers.Serializer]) -> ValuesPlan | None:
    """The serializer's fields as columns, or None when one of them is not a column path."""
    if serializer_class in _VALUES_PLANS:
        return _VALUES_PLANS[serializer_class]
    plan = _values_plan(serializer_class())
    _VALUES_PLANS[serializer_class] = plan
    return plan


def _values_plan(child: serializers.Serializer) -> ValuesPlan | None:
    model = getattr(getattr(child, "Meta", None), "model", None)
    if model is None:
        return None
    hooks: dict[str, tuple[tuple[str, ...], RowReader]] = getattr(child, "lean_values", {})
    lookups: list[str] = []
    annotations: set[str] = set()
    readers: list[tuple[str, RowReader]] = []
    for field in child._readable_fields:
        name = str(field.field_name)
        if name in hooks:
            columns, read = hooks[name]
            lookups += columns
            readers.append((name, read))
            continue
        if isinstance(field, serializers.SerializerMethodField | serializers.BaseSerializer):
            return None
        found = _column(model, field)
        if found is None:
            return None
        lookup, is_annotation = found
        lookups.append(lookup)
        if is_annotation:
            annotations.add(lookup)
        readers.append((name, _reader(lookup, field)))
    return ValuesPlan(tuple(dict.fromkeys(lookups)), frozenset(annotations), tuple(readers))


def _column(model: Any, field: Any) -> tuple[str, bool] | None:
    """The `values()` lookup of a field and whether it must be an annotation, or None."""
    attrs = field.source_attrs
    if not attrs:
        return None
    if isinstance(field, PrimaryKeyRelatedField):
        if field.pk_field is not None or len(attrs) != 1:
            return None
        try:
            return model._meta.get_field(attrs[0]).attname, False
        except FieldDoesNotExist:
            return None
    if isinstance(field, serializers.RelatedField):
        return None
    if len(attrs) > 1 and field.default not in (empty, None):
        return None  # a missing related row gives the default in DRF, a null column here
    current = model
    for i, attr in enumerate(attrs):
        try:
            found = current._meta.get_field(attr)
        except FieldDoesNotExist:
            # Not a field: an annotation on the list's own rows (checked against the queryset), or a
            # property, which `as_values` cannot read.
            return (attr, True) if i == 0 and len(attrs) == 1 and not hasattr(model, attr) else None
        last = i == len(attrs) - 1
        if last:
            if found.is_relation or not found.concrete:
                return None
        elif not (found.many_to_one or found.one_to_one) or not found.concrete:
            return None
        else:
            current = found.related_model
    return "__".join(attrs), False


# DRF fields whose `to_representation` is `str(value)` / `int(value)`: a value already of that exact
# type is sent as it is.
_AS_IS = {serializers.CharField: str, serializers.IntegerField: int}


def _reader(lookup: str, field: Any) -> RowReader:
    if isinstance(field, PrimaryKeyRelatedField):
        return lambda row: row[lookup]
    to_repr = field.to_representation
    kind = _AS_IS.get(type(field))
    if kind is not None:

        def plain(row: dict[str, Any]) -> Any:
            value = row[lookup]
            return value if value is None or type(value) is kind else to_repr(value)

        return plain

    def read(row: dict[str, Any]) -> Any:
        value = row[lookup]
        return None if value is None else to_repr(value)

    return read


def as_values(
    queryset: models.QuerySet[Any], serializer_class: type[Any], order: tuple[str, ...] = ()
) -> models.QuerySet[Any]:
    """The queryset as `values()` of the list's columns (plus the columns `order` names, for the
    paginator's position), when its serializer is lean and every field is a column; else unchanged."""
    if (
        getattr(getattr(serializer_class, "Meta", None), "list_serializer_class", None)
        is not LeanListSerializer
    ):
        return queryset
    plan = values_plan(serializer_class)
    if plan is None or not plan.annotations <= set(queryset.query.annotations):
        return queryset
    meta = queryset.model._meta
    extra = []
    for name in (*order, *(queryset.query.order_by or meta.ordering), "pk"):
        bare = name.lstrip("-") if isinstance(name, str) else "?"
        if bare == "pk":
            extra.append(meta.pk.attname)
            continue
        try:
            extra.append(meta.get_field(bare).attname)
        except FieldDoesNotExist:
            return queryset  # an order the paginators refuse anyway; let them say so
    return queryset.values(*dict.fromkeys((*plan.lookups, *extra)))


class LeanListSerializer(serializers.ListSerializer):
    """A read-only list serializer giving the child serializer's JSON for each row, quickly."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        child = self.child
        assert isinstance(child, serializers.Serializer)
        rows = list(rows)
        if rows and isinstance(rows[0], dict):
            values = values_plan(type(child))
            assert values is not None, f"{type(child).__name__} rows came as values without a plan"
            readers = values.readers
            return [{name: read(row) for name, read in readers} for row in rows]
        plan = [(name, get or getattr(child, str(method))) for name, get, method in _plan(child)]
        return [{name: get(row) for name, get in plan} for row in rows]
