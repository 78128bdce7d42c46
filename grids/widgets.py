"""The grid picker: a type-ahead over `grids:node_search` instead of a dropdown of thousands of nodes.

Two modes. `GridPicker` (forms that store a node) sends the chosen node's id in a hidden input and
shows its name; `GridNamePicker` (list filters) sends the name, or the code when two nodes share a
name, so the URL reads 塘下镇 rather than an internal id. The script is static/js/picker.js.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from . import scoping


class _PickerBase(forms.Widget):
    template_name = "widgets/grid_picker.html"
    mode = "id"

    def __init__(self, *, perm: str = scoping.VIEW, levels: tuple[int, ...] = (), attrs: Any = None) -> None:
        super().__init__(attrs)
        self.perm = perm
        self.levels = levels

    def search_url(self) -> str:
        query: dict[str, str] = {"perm": self.perm}
        if self.levels:
            query["level"] = ",".join(str(level) for level in self.levels)
        return f"{reverse('grids:node_search')}?{urlencode(query)}"

    def label_for(self, value: Any) -> str:
        return "" if value in (None, "") else str(value)

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            {"url": self.search_url(), "mode": self.mode, "label": self.label_for(value)}
        )
        return context


class GridPicker(_PickerBase):
    """Stores the node id; `choices` is the field's scoped queryset (set by ModelChoiceField)."""

    choices: Any = ()

    def label_for(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return ""
        try:
            node = queryset.filter(pk=value).first()
        except (ValueError, TypeError):
            return ""
        return node.name if node is not None else ""


class GridNamePicker(_PickerBase):
    """A list filter's grid: the text is the value (a name or a code)."""

    mode = "name"

    def __init__(self, *, levels: tuple[int, ...] = (), attrs: Any = None) -> None:
        super().__init__(perm=scoping.VIEW, levels=levels, attrs=attrs)


class ResidentPicker(forms.SelectMultiple):
    """Registered residents as removable chips, picked by name over `registry:resident_pick`.

    Only the chosen residents are rendered (never the whole registry); a chip shows the name and the
    household number, never an ID number.
    """

    template_name = "widgets/resident_picker.html"

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super(forms.SelectMultiple, self).get_context(name, value, attrs)
        chosen = [str(v) for v in (value or []) if str(v).isdigit()]
        queryset = getattr(self.choices, "queryset", None)
        rows = (
            list(queryset.filter(pk__in=chosen).select_related("household")[:50])
            if chosen and queryset is not None
            else []
        )
        context["widget"].update({"url": reverse("registry:resident_pick"), "chosen": rows, "name": name})
        return context


class PositionFields(forms.Form):
    """Latitude and longitude, filled by the phone's "use my position" button (static/js/field.js)."""

    latitude = forms.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        label=_("Latitude"),
        widget=forms.NumberInput(attrs={"step": "any", "data-geo": "latitude", "inputmode": "decimal"}),
    )
    longitude = forms.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        label=_("Longitude"),
        widget=forms.NumberInput(attrs={"step": "any", "data-geo": "longitude", "inputmode": "decimal"}),
    )
