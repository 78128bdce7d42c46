"""PDF documents with WeasyPrint: Chinese text set in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei,
named in the README and decision 1302). Templates are plain HTML with their own CSS; nothing is
fetched from the network (no base URL, no external resources)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError("PDF documents fetch nothing")


def pdf_bytes(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # imported here: the library loads Pango when first used

    html = render_to_string(template, context)
    return bytes(HTML(string=html, url_fetcher=_no_fetch).write_pdf())


def pdf_response(template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    response = HttpResponse(pdf_bytes(template, context), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
