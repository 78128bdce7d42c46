"""/api/v1/supervision-orders/: list, detail, issue by hand, reply, review. Thin over cases.supervision."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ruian_grid.errors import service_errors_as_400
from ruian_grid.inputs import IdField
from ruian_grid.scoped import ScopedReadOnlyViewSet

from . import selectors, supervision
from .api import CasePagination
from .models import Grade, OrderStatus, SupervisionOrder, Tier


class OrderSerializer(serializers.ModelSerializer):
    case_title = serializers.CharField(source="case.title", read_only=True, default=None)
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None)
    grade_label = serializers.CharField(source="get_grade_display", read_only=True)

    class Meta:
        model = SupervisionOrder
        fields = [
            "id",
            "case",
            "case_title",
            "subject_kind",
            "subject_id",
            "subject_label",
            "subject_url",
            "part",
            "tier",
            "grade",
            "grade_label",
            "unit",
            "unit_name",
            "person",
            "status",
            "manual",
            "reason",
            "parent",
            "created_at",
            "reply_due_at",
            "reply",
            "replied_at",
            "review_note",
            "reviewed_at",
        ]
        read_only_fields = fields


class OrderFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=OrderStatus.choices, required=False, allow_blank=True, default=""
    )
    grade = serializers.ChoiceField(choices=Grade.choices, required=False, allow_null=True, default=None)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False, allow_blank=True, default="")
    township = IdField(required=False, allow_null=True, default=None)
    unit = IdField(required=False, allow_null=True, default=None)


class IssueSerializer(serializers.Serializer):
    case = IdField()
    grade = serializers.ChoiceField(choices=Grade.choices)
    reason = serializers.CharField(max_length=2000)


class ReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=4000)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderPagination(CasePagination):
    pass


class OrderViewSet(ScopedReadOnlyViewSet):
    """Supervision orders in the user's scope (their grids' cases, and orders to their units)."""

    serializer_class = OrderSerializer
    pagination_class = OrderPagination

    def get_queryset(self) -> QuerySet[SupervisionOrder]:
        if self.action == "list":
            params = OrderFilter(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            return selectors.order_list(self.request.user, **params.validated_data)
        return selectors.order_list(self.request.user)

    @extend_schema(request=IssueSerializer, responses={201: OrderSerializer})
    def create(self, request: Request) -> Response:
        data = IssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = selectors.case_get(request.user, data.validated_data["case"])
        try:
            with service_errors_as_400():
                order = supervision.order_issue(
                    actor=request.user,
                    case=case,
                    grade=data.validated_data["grade"],
                    reason=data.validated_data["reason"],
                )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(OrderSerializer(selectors.order_get(request.user, order.pk)).data, status=201)

    @extend_schema(request=ReplySerializer, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: Any = None) -> Response:
        order = self.get_object()
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with service_errors_as_400():
                order = supervision.order_reply(
                    actor=request.user, order=order, reply=data.validated_data["reply"]
                )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(OrderSerializer(order).data)

    @extend_schema(request=ReviewSerializer, responses={200: OrderSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: Any = None) -> Response:
        order = self.get_object()
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with service_errors_as_400():
                order = supervision.order_review(actor=request.user, order=order, **data.validated_data)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(OrderSerializer(order).data)
