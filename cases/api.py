"""/api/v1/cases/ and /api/v1/units/: thin — parse, call a selector or `cases.actions`, render.

Every transition of the workflow table is a POST action on the case (`/cases/{id}/dispatch/`, ...).
Send the `version` you read: if the case changed meanwhile the answer is 409 with the current
version, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ruian_grid.errors import service_errors_as_400
from ruian_grid.inputs import ID_MAX, IdField
from ruian_grid.scoped import ScopedReadOnlyViewSet
from ruian_grid.serializers import LeanListSerializer
from teams.models import person_name

from . import actions, rules, selectors, services
from .models import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CasePart,
    LimitUnit,
    Satisfaction,
    Severity,
    Source,
    Status,
    SubKind,
    case_number,
    is_overdue,
)


class CasePagination(CursorPagination):
    """Keyset pagination on (created_at, id) newest first: no COUNT, constant cost per page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


class CaseListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    node_name = serializers.CharField(source="node.name", read_only=True)
    # Null until the case is dispatched. `source` names the related row, not its `__str__`: a missing
    # row gives null, never the text of a method on None.
    responsible_unit_name = serializers.CharField(
        source="responsible_unit.name", read_only=True, allow_null=True, default=None
    )
    responsible_person_name = serializers.CharField(
        source="responsible_person", read_only=True, allow_null=True, default=None
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "sub_kind",
            "severity",
            "status",
            "tier",
            "node",
            "node_name",
            "responsible_unit",
            "responsible_unit_name",
            "responsible_person",
            "responsible_person_name",
            "due_at",
            "alert_level",
            "overdue",
            "created_at",
            "version",
        ]
        read_only_fields = fields
        list_serializer_class = LeanListSerializer

    # The fields that are not columns, for a list read as values (ruian_grid.serializers.as_values):
    # the columns each needs and the model's own code over them.
    lean_values = {
        "number": (("id", "created_at"), lambda row: case_number(row["id"], row["created_at"])),
        "responsible_person_name": (
            ("responsible_person__full_name", "responsible_person__username"),
            lambda row: (
                None
                if row["responsible_person__username"] is None
                else person_name(row["responsible_person__full_name"], row["responsible_person__username"])
            ),
        ),
        "overdue": (("status", "due_at"), lambda row: is_overdue(row["status"], row["due_at"])),
    }

    def get_overdue(self, case: Case) -> bool:
        return case.is_overdue()


class PartSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = CasePart
        fields = [
            "id",
            "unit",
            "unit_name",
            "task",
            "due_at",
            "status",
            "done_at",
            "done_note",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = CaseAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: CaseAttachment) -> str:
        return reverse("cases:file", args=[attachment.case_id, attachment.pk])


class PartyOutSerializer(serializers.Serializer):
    """A party as shown: the phone masked (it is stored encrypted)."""

    name = serializers.CharField()
    role = serializers.CharField()
    phone = serializers.CharField(source="phone_masked", default="")


class CaseDetailSerializer(CaseListSerializer):
    parts = PartSerializer(many=True, read_only=True)
    parties = PartyOutSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, allow_blank=True, read_only=True)

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "description",
            "address",
            "parties",
            "source",
            "source_ref",
            "visit",
            "reporter",
            "dispatched_by",
            "merged_into",
            "city",
            "township",
            "cell",
            "plot",
            "step_started_at",
            "yellow_at",
            "red_at",
            "extension_minutes",
            "extension_requested_minutes",
            "extension_reason",
            "paused_at",
            "pause_reason",
            "paused_seconds",
            "disputed_at",
            "dispute_reason",
            "dispute_seconds",
            "resolution",
            "satisfaction",
            "callback_note",
            "closed_at",
            "updated_at",
            "parts",
            "attachments",
            "actions",
        ]
        read_only_fields = fields

    def get_actions(self, case: Case) -> list[str]:
        return [t.name for t in rules.available(self.context["request"].user, case)]


class EventSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "action",
            "from_status",
            "to_status",
            "note",
            "due_at",
            "data",
        ]
        read_only_fields = fields


class PartyField(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    role = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class CaseCreateSerializer(serializers.Serializer):
    node = IdField(help_text=_("The grid node (usually a plot) where the case is recorded."))
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    sub_kind = serializers.ChoiceField(choices=SubKind.choices, default=SubKind.OTHER)
    source = serializers.ChoiceField(choices=Source.choices)
    source_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.GENERAL)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    parties = PartyField(many=True, required=False, default=list)


# --- one request body per transition --------------------------------------------------------------


class _Versioned(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=ID_MAX,
        help_text=_("The version you read; a newer one on the server gives 409."),
    )


class _Reason(_Versioned):
    reason = serializers.CharField(max_length=NOTE_MAX)


class _Note(_Versioned):
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class _Assist(serializers.Serializer):
    unit = IdField()
    task = serializers.CharField(max_length=200)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class _Dispatch(_Note):
    responsible_unit = IdField()
    responsible_person = IdField(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    assists = _Assist(many=True, required=False, default=list)
    confirm_late_parts = serializers.BooleanField(required=False, default=False)


class _Reassign(_Reason):
    responsible_unit = IdField()
    responsible_person = IdField(required=False, allow_null=True, default=None)


class _Confirm(_Note):
    responsible_person = serializers.IntegerField(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField()


class _Extension(_Reason):
    amount = serializers.IntegerField(min_value=1, max_value=1000)
    unit = serializers.ChoiceField(choices=LimitUnit.choices)


class _Submit(_Versioned):
    resolution = serializers.CharField(max_length=NOTE_MAX)


class _Close(_Versioned):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    callback_note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class _Merge(_Note):
    into = IdField()


class _PartDone(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)


BODIES: dict[str, type[serializers.Serializer]] = {
    "dispatch": _Dispatch,
    "accept": _Note,
    "return": _Reason,
    "dispute": _Reason,
    "decide": _Reassign,
    "transfer": _Reassign,
    "confirm": _Confirm,
    "escalate": _Reason,
    "request_extension": _Extension,
    "approve_extension": _Note,
    "deny_extension": _Reason,
    "pause": _Reason,
    "resume": _Note,
    "complete_part": _PartDone,
    "submit": _Submit,
    "reject": _Reason,
    "close": _Close,
    "reopen": _Reason,
    "merge": _Merge,
}

CONFLICT = inline_serializer(
    "CaseConflict", {"detail": serializers.CharField(), "version": serializers.IntegerField()}
)

LIST_PARAMETERS = [
    OpenApiParameter(
        "view", str, enum=["all", "mine", "unit"], description="all in scope, mine, or my unit's"
    ),
    OpenApiParameter("kind", str, enum=CaseKind.values),
    OpenApiParameter("status", str, enum=Status.values),
    OpenApiParameter("node", int, description="only cases under this grid node"),
    OpenApiParameter("due_before", OpenApiTypes.DATE),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("open", bool, description="leave out closed and merged cases"),
]


class CaseFilter(serializers.Serializer):
    view = serializers.ChoiceField(choices=["all", "mine", "unit"], default="all")
    kind = serializers.ChoiceField(choices=CaseKind.choices, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=Status.choices, required=False, allow_blank=True, default="")
    node = IdField(required=False, allow_null=True, default=None)
    due_before = serializers.DateField(required=False, allow_null=True, default=None)
    overdue = serializers.BooleanField(required=False, default=False)
    open = serializers.BooleanField(required=False, default=False)


def _transition_view(name: str):  # noqa: ANN202
    body = BODIES[name]
    transition = rules.TRANSITIONS[name]

    def view(self: CaseViewSet, request: Request, pk: Any = None) -> Response:
        case = self.get_object()
        data = body(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        try:
            with service_errors_as_400():
                actions.perform(actor=request.user, case=case, action=name, data=values, version=version)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.CaseConflict as exc:
            return Response({"detail": exc.message, "version": exc.version}, status=status.HTTP_409_CONFLICT)
        fresh = selectors.case_get(request.user, case.pk)
        return Response(CaseDetailSerializer(fresh, context=self.get_serializer_context()).data)

    view.__name__ = f"do_{name}"
    routed = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name)(view)
    return extend_schema(
        request=body,
        responses={
            200: CaseDetailSerializer,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            409: CONFLICT,
        },
        summary=str(transition.label),
        description=str(transition.help),
    )(routed)


class CaseFromVisitSerializer(serializers.Serializer):
    visit = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    sub_kind = serializers.ChoiceField(choices=SubKind.choices, default=SubKind.OTHER)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.GENERAL)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CaseViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Cases in the user's scope: list (keyset pages), detail, record, transitions, files, timeline."""

    pagination_class = CasePagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Case]:
        if self.action == "list":
            params = CaseFilter(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            values = params.validated_data
            node = selectors.node_for_filter(self.request.user, values["node"]) if values["node"] else None
            if values["node"] and node is None:
                return selectors.cases_visible(self.request.user).none()
            return selectors.case_list(
                self.request.user,
                view=values["view"],
                kind=values["kind"],
                status=values["status"],
                node=node,
                due_before=values["due_before"],
                overdue=values["overdue"],
                open_only=values["open"],
            )
        return selectors.case_detail_queryset(self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return CaseListSerializer
        if self.action == "create":
            return CaseCreateSerializer
        return CaseDetailSerializer

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        node = selectors.node_for_filter(request.user, values.pop("node"))
        if node is None:
            raise serializers.ValidationError({"node": [_("No such grid node in your city.")]})
        with service_errors_as_400():
            case = services.case_record(actor=request.user, node=node, **values)
        fresh = selectors.case_get(request.user, case.pk)
        return Response(CaseDetailSerializer(fresh, context=self.get_serializer_context()).data, status=201)

    @extend_schema(
        request=CaseFromVisitSerializer, responses={201: CaseDetailSerializer, 200: CaseDetailSerializer}
    )
    @action(detail=False, methods=["post"], url_path="from-visit")
    def from_visit(self, request: Request) -> Response:
        """Raise the case a visit called for (its outcome "raise a case"): linked to the visit, at its
        plot, with its photos. One case per visit: sending it again answers 200 with that case."""
        data = CaseFromVisitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        visit = selectors.visit_get(request.user, values.pop("visit"))
        with service_errors_as_400():
            case, created = services.case_raise_from_visit(actor=request.user, visit=visit, **values)
        fresh = selectors.case_get(request.user, case.pk)
        body = CaseDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(body, status=201 if created else 200)

    @extend_schema(responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: Any = None) -> Response:
        case = self.get_object()
        return Response(EventSerializer(selectors.case_timeline(case), many=True).data)

    @extend_schema(
        request={"multipart/form-data": inline_serializer("Upload", {"file": serializers.FileField()})},
        responses={201: AttachmentSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request: Request, pk: Any = None) -> Response:
        case = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [_("Choose a file.")]})
        try:
            with service_errors_as_400():
                attachment = services.case_attach(actor=request.user, case=case, upload=upload)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(AttachmentSerializer(attachment).data, status=201)


# One POST action per transition of the table (attribute `do_<name>`: `dispatch` is taken by DRF).
for _name in rules.TRANSITIONS:
    setattr(CaseViewSet, f"do_{_name}", _transition_view(_name))


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    node = serializers.IntegerField(source="node_id", allow_null=True)


class UnitViewSet(ScopedReadOnlyViewSet):
    """The responsible units (departments, township and cell offices) of the user's city."""

    serializer_class = UnitSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.unit_choices(self.request.user)
