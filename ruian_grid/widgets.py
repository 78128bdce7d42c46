"""Form widgets rendered in Python, for forms drawn on every request of a list page.

Django renders a `<select>` through a template per option (and one for each option's attributes): the
case list's filter form spent more time there than in rendering its 50 rows. These widgets give the
same HTML from the same context (`get_context`), joined with `format_html`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """As Django's attrs.html: `True` gives a bare attribute, `False` and `None` leave it out."""
    return flatatt({k: v for k, v in attrs.items() if v is not False and v is not None})


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
