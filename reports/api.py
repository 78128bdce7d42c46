"""/api/v1/reports/dashboard/?node=&month=: every figure of a dashboard (thin: parse, select, render)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import scoping
from grids.models import GridNode

from . import selectors
from .payload import dashboard_payload


def home_or_node(user: Any, pk: Any) -> GridNode:
    """The node asked for, else the user's home node; in scope or 404."""
    if pk in (None, ""):
        pk = getattr(user, "home_node_id", None)
    return scoping.get_node_or_404(user, pk)


def month_or_400(value: str | None) -> Any:
    try:
        return selectors.parse_month(value)
    except selectors.MonthError as exc:
        raise serializers.ValidationError(
            {"month": [_("Give a month as YYYY-MM, not later than this month.")]}
        ) from exc


class DashboardView(APIView):
    """The figures of one grid node's dashboard for a month, and its children side by side."""

    scoped = True  # the node comes through grids.scoping; every figure from reports.selectors

    @extend_schema(
        parameters=[
            OpenApiParameter("node", OpenApiTypes.INT, description="grid node (default: your home node)"),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: this month)"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        node = home_or_node(request.user, request.query_params.get("node"))
        month = month_or_400(request.query_params.get("month"))
        dash = selectors.dashboard(actor=request.user, node=node, month=month)
        return Response(dashboard_payload(dash, with_map=request.query_params.get("map", "1") != "0"))
