"""/api/v1/inbox/: the signed-in person's inbox: list, mark one read, mark all read."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from ruian_grid.scoped import ScopedReadOnlyViewSet

from . import selectors, services
from .inbox_models import InboxItem


class InboxPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("-created_at", "-id")


class InboxItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboxItem
        fields = ["id", "kind", "subject", "url", "about_type", "about_id", "created_at", "read_at"]
        read_only_fields = fields


class InboxViewSet(ScopedReadOnlyViewSet):
    """Only ever the signed-in person's own items: another person's item is a 404."""

    serializer_class = InboxItemSerializer
    pagination_class = InboxPagination

    def get_queryset(self) -> QuerySet[InboxItem]:
        unread = self.request.query_params.get("unread") in ("1", "true")
        return selectors.inbox_items(self.request.user, unread_only=unread)

    @extend_schema(parameters=[OpenApiParameter("unread", bool)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: InboxItemSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        item = services.inbox_mark_read(actor=request.user, item=self.get_object())  # type: ignore[arg-type]
        return Response(InboxItemSerializer(item).data)

    @extend_schema(
        request=None, responses={200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()})}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": services.inbox_mark_all_read(actor=request.user)})  # type: ignore[arg-type]

    @extend_schema(responses={200: inline_serializer("Unread", {"unread": serializers.IntegerField()})})
    @action(detail=False, methods=["get"])
    def unread(self, request: Request) -> Response:
        return Response({"unread": selectors.inbox_unread_count(request.user)})
