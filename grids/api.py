"""/api/v1/grids/: the grid tree over REST. Thin: parse, call a selector or a tree service, render."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ruian_grid.errors import service_errors_as_400
from ruian_grid.inputs import IdField, IdFilter
from ruian_grid.scoped import ScopedModelViewSet

from . import scoping, selectors, tree
from .models import GridNode, Kind, Level


class ResponsibleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class GridNodeSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    responsible = ResponsibleSerializer(read_only=True, allow_null=True)
    # Null where not counted: ancestors carry no counts, mixed-level lists no household count.
    cell_count = serializers.IntegerField(read_only=True, allow_null=True)
    plot_count = serializers.IntegerField(read_only=True, allow_null=True)
    household_count = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = GridNode
        fields = [
            "id",
            "tenant",
            "parent",
            "level",
            "kind",
            "kind_display",
            "code",
            "name",
            "boundary",
            "responsible",
            "cell_count",
            "plot_count",
            "household_count",
        ]
        read_only_fields = fields


class GridNodeWriteSerializer(serializers.Serializer):
    """Shape only; the tree service checks kind against level, codes, tenants and boundaries."""

    # DRF's metaclass lifts declared fields off the class, so this does not shadow Field.parent.
    parent = IdField(required=True)  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=Kind.choices)
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=100)
    boundary = serializers.JSONField(required=False, allow_null=True)
    responsible = IdField(required=False, allow_null=True)


class GridNodeUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    code = serializers.CharField(max_length=32, required=False)
    name = serializers.CharField(max_length=100, required=False)
    boundary = serializers.JSONField(required=False, allow_null=True)
    responsible = IdField(required=False, allow_null=True)


class GridMoveSerializer(serializers.Serializer):
    parent = IdField()  # type: ignore[assignment]  # see GridNodeWriteSerializer


class GridNodeFilter(django_filters.FilterSet):
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    parent = IdFilter(field_name="parent_id")
    search = django_filters.CharFilter(method="filter_search", label=_("name or code contains"))

    class Meta:
        model = GridNode
        fields = ["level", "kind", "parent"]

    def filter_search(self, qs: QuerySet[GridNode], name: str, value: str) -> QuerySet[GridNode]:
        return qs.filter(Q(name__icontains=value) | Q(code__icontains=value))


def _responsible_id(tenant_id: int, value: int | None) -> int | None:
    """A responsible person must be a user of the node's city; anything else reads as unknown."""
    if value is None:
        return None
    if not selectors.is_city_user(tenant_id=tenant_id, pk=value):
        raise serializers.ValidationError({"responsible": [_("No such user in this city.")]})
    return value


class GridNodeViewSet(ScopedModelViewSet):
    """The grid nodes the signed-in user may see: list, detail, children, ancestors; and, with the
    `manage_grid` right, create, edit, move and delete."""

    serializer_class = GridNodeSerializer
    filterset_class = GridNodeFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[GridNode]:
        qs = selectors.node_list(actor=self.request.user)
        if self.action == "list":
            qs = selectors.with_counts(qs, None)
        return qs

    def get_object(self) -> GridNode:
        return selectors.node_get(actor=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = self.get_object()
        node.household_count = selectors.household_count(node=node)
        return Response(GridNodeSerializer(node).data)

    def _fresh(self, node: GridNode) -> dict[str, Any]:
        """The node as stored after a tree write (which moved lft/rght under the cached grants)."""
        scoping.forget(self.request.user)
        return GridNodeSerializer(selectors.node_get(actor=self.request.user, pk=node.pk)).data

    def _require(self, perm: str, node: GridNode) -> None:
        if not scoping.can_now(self.request.user, perm, node):
            raise PermissionDenied(_("You may not change the grid here."))

    @extend_schema(request=GridNodeWriteSerializer, responses={201: GridNodeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = GridNodeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        parent = scoping.scope_nodes(request.user).filter(pk=v["parent"]).first()
        if parent is None:
            raise serializers.ValidationError({"parent": [_("No such parent grid in this city.")]})
        self._require("manage_grid", parent)
        with service_errors_as_400():
            node = tree.node_create(
                parent=parent,
                kind=v["kind"],
                code=v["code"],
                name=v["name"],
                boundary=v.get("boundary"),
                responsible_id=_responsible_id(parent.tenant_id, v.get("responsible")),
                tenant_id=parent.tenant_id,
            )
        return Response(self._fresh(node), status=201)

    @extend_schema(request=GridNodeUpdateSerializer, responses={200: GridNodeSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = self.get_object()
        self._require("manage_grid", node)
        data = GridNodeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "responsible" in changes:
            changes["responsible_id"] = _responsible_id(node.tenant_id, changes.pop("responsible"))
        with service_errors_as_400():
            tree.node_update(node=node, **changes)
        return Response(self._fresh(node))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        node = self.get_object()
        self._require("manage_grid", node)
        with service_errors_as_400():
            tree.node_delete(node=node)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=GridMoveSerializer, responses={200: GridNodeSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Redraw the grid: move this node under another parent one level up."""
        node = self.get_object()
        data = GridMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = scoping.scope_nodes(request.user).filter(pk=data.validated_data["parent"]).first()
        if target is None:
            raise serializers.ValidationError({"parent": [_("No such parent grid in this city.")]})
        self._require("manage_grid", node)
        self._require("manage_grid", target)
        with service_errors_as_400():
            tree.node_move(node=node, new_parent=target)
        return Response(self._fresh(node))

    @extend_schema(responses={200: GridNodeSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def children(self, request: Request, pk: str | None = None) -> Response:
        """The node's children with counts of cells, plots and households below each (paginated)."""
        node = self.get_object()
        page = self.paginate_queryset(selectors.node_children(actor=request.user, node=node))
        return self.get_paginated_response(GridNodeSerializer(page, many=True).data)

    @extend_schema(responses={200: GridNodeSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def ancestors(self, request: Request, pk: str | None = None) -> Response:
        """The node's ancestors that the user may see, from the top down."""
        node = self.get_object()
        return Response(
            GridNodeSerializer(selectors.node_ancestors(actor=request.user, node=node), many=True).data
        )
