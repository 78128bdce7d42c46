"""Form widgets rendered in Python, for forms drawn on every request of a list page.

Django renders a `<select>` through a template per option (and one for each option's attributes): the
case list's filter form spent more time there than in rendering its 50 rows. These widgets give the
same HTML from the same context (`get_context`), joined with `format_html`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """As Django's attrs.html, in the same order: `True` gives a bare attribute, `False` and `None`
    leave it out (`flatatt` would sort them)."""
    return mark_safe(  # noqa: S308 - names are the form's own, values escaped by format_html
        "".join(
            format_html(" {}", k) if v is True else format_html(' {}="{}"', k, str(v))
            for k, v in attrs.items()
            if v is not False and v is not None
        )
    )


class PlainSelect(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(
                format_html('<option value="{}"{}>{}</option>', o["value"], _attrs(o["attrs"]), o["label"])
                for o in options
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part escaped by format_html above


class _PlainInput:
    """As Django's input.html, from the widget's own context (its value already formatted)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = widget["value"]
        value_attr = format_html(' value="{}"', str(shown)) if shown is not None else ""
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            value_attr,
            _attrs(widget["attrs"]),
        )


class PlainTextInput(_PlainInput, forms.TextInput):
    pass


class PlainHiddenInput(_PlainInput, forms.HiddenInput):
    pass


class PlainNumberInput(_PlainInput, forms.NumberInput):
    pass


class PlainDateInput(_PlainInput, forms.DateInput):
    pass


class PlainCheckboxInput(_PlainInput, forms.CheckboxInput):
    pass
