"""/api/v1/teams/, /api/v1/assignments/, /api/v1/visits/, /api/v1/visit-cadences/: thin — parse, call
a selector or a service, render.

A visit is created with a client-made `client_id` (a UUID): sending it again answers 200 with
`"status": "already_stored"` and the id stored the first time, never a second visit.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from grids import scoping
from grids.models import GridNode, Level
from ruian_grid.errors import service_errors_as_400
from ruian_grid.inputs import IdField
from ruian_grid.scoped import ScopedAPIMixin, ScopedReadOnlyViewSet

from . import selectors, services
from .models import Membership, PlotAssignment, Unit, User, Visit, VisitCadence, VisitOutcome


class MemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "name", "role", "title"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    members = MemberSerializer(source="memberships", many=True, read_only=True)
    node_name = serializers.CharField(source="node.name", read_only=True, default=None)

    class Meta:
        model = Unit
        fields = ["id", "kind", "code", "name", "node", "node_name", "parent", "is_active", "members"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    user = IdField()
    role = serializers.CharField(default="member", max_length=10)
    title = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class CoverageSerializer(serializers.Serializer):
    node = serializers.IntegerField(source="node.pk")
    node_name = serializers.CharField(source="node.name")
    plots = serializers.IntegerField()
    covered = serializers.IntegerField()
    uncovered = serializers.SerializerMethodField()
    percent = serializers.FloatField()
    idle_members = serializers.IntegerField(source="idle_count")
    uncovered_plots = serializers.SerializerMethodField()
    members_without_plot = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()

    def get_uncovered(self, cov: selectors.Coverage) -> int:
        return cov.plots - cov.covered

    def get_uncovered_plots(self, cov: selectors.Coverage) -> list[dict[str, Any]]:
        return [
            {"id": p.pk, "name": p.name, "cell": p.parent.name if p.parent else ""}
            for p in cov.uncovered_plots
        ]

    def get_members_without_plot(self, cov: selectors.Coverage) -> list[dict[str, Any]]:
        return [{"user": m.user_id, "name": str(m.user), "team": m.unit.name} for m in cov.idle_members]

    def get_children(self, cov: selectors.Coverage) -> list[dict[str, Any]]:
        return [{"id": c.pk, "name": c.name, "plots": c.plots, "covered": c.covered} for c in cov.children]


def _actor(request: Request) -> User:
    """The signed-in user (the API's default permission class refuses anonymous requests)."""
    return cast(User, request.user)


def _node_param(request: Request) -> GridNode:
    return scoping.get_node_or_404(request.user, request.query_params.get("node"))


class TeamViewSet(ScopedReadOnlyViewSet):
    """Service teams (平安和谐服务队) and leadership groups (工作领导小组) with their people, in the
    user's grid; coverage of plots by responsible members; the signed-in member's own plots."""

    serializer_class = TeamSerializer

    def get_queryset(self) -> QuerySet[Unit]:
        return selectors.teams_visible(self.request.user).prefetch_related("memberships__user")

    @extend_schema(request=MemberAddSerializer, responses={200: TeamSerializer})
    @action(detail=True, methods=["post"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """Add a person to the team (or change their role); needs manage_grid at the team's grid."""
        team = self.get_object()
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(pk=data.validated_data["user"], tenant_id=team.tenant_id).first()
        if user is None:
            raise serializers.ValidationError({"user": [_("No such person in this city.")]})
        with service_errors_as_400():
            services.team_member_add(
                actor=_actor(request),
                team=team,
                user=user,
                role=data.validated_data["role"],
                title=data.validated_data["title"],
            )
        return Response(TeamSerializer(self.get_queryset().get(pk=team.pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("node", OpenApiTypes.INT, required=True)],
        responses={200: CoverageSerializer},
    )
    @action(detail=False, methods=["get"])
    def coverage(self, request: Request) -> Response:
        """Plots with and without a responsible member below a grid node, and members without a plot."""
        node = _node_param(request)
        return Response(CoverageSerializer(selectors.coverage(actor=request.user, node=node)).data)

    @extend_schema(
        responses={
            200: inline_serializer(
                "MyPlots",
                {
                    "plots": serializers.ListField(child=serializers.DictField()),
                    "due": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    @action(detail=False, methods=["get"], url_path="my-plots")
    def my_plots(self, request: Request) -> Response:
        """The signed-in member's plots with households, households visited this month and due."""
        plots = selectors.my_assignments(actor=request.user)
        due = selectors.my_due_households(actor=request.user)
        return Response(
            {
                "plots": [
                    {
                        "plot": a.plot_id,
                        "name": a.plot.name,
                        "duties": a.duties,
                        "households": getattr(a, "household_count", 0),
                        "visited_this_month": getattr(a, "visited_this_month", 0),
                        "due": getattr(a, "due_count", 0),
                    }
                    for a in plots
                ],
                "due": [
                    {
                        "household": h.pk,
                        "number": h.number,
                        "address": h.address,
                        "last_visit": getattr(h, "last_visit", None),
                    }
                    for h in due
                ],
            }
        )


class AssignmentSerializer(serializers.ModelSerializer):
    plot_name = serializers.CharField(source="plot.name", read_only=True)
    member_name = serializers.CharField(source="member.__str__", read_only=True)

    class Meta:
        model = PlotAssignment
        fields = ["id", "plot", "plot_name", "member", "member_name", "duties", "started_at", "ended_at"]
        read_only_fields = fields


class AssignSerializer(serializers.Serializer):
    plot = IdField()
    member = IdField()
    duties = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AssignmentViewSet(ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Who is (and was) responsible for each plot; POST assigns a plot (closing the assignment in force)."""

    serializer_class = AssignmentSerializer

    def get_queryset(self) -> QuerySet[PlotAssignment]:
        qs = selectors.assignments_visible(self.request.user).order_by("plot_id", "-started_at")
        plot = self.request.query_params.get("plot")
        if plot and plot.isdigit():
            qs = qs.filter(plot_id=int(plot))
        if self.request.query_params.get("open") == "1":
            qs = qs.filter(ended_at__isnull=True)
        return qs

    @extend_schema(request=AssignSerializer, responses={201: AssignmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plot = scoping.get_node_or_404(request.user, data.validated_data["plot"])
        if plot.level != Level.PLOT:
            raise serializers.ValidationError({"plot": [_("Only plots are assigned a responsible member.")]})
        member = User.objects.filter(pk=data.validated_data["member"], is_active=True).first()
        if member is None:
            raise serializers.ValidationError({"member": [_("No such person.")]})
        with service_errors_as_400():
            assignment = services.plot_assign(
                actor=_actor(request), plot=plot, member=member, duties=data.validated_data["duties"]
            )
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class CadenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitCadence
        fields = ["id", "tag", "interval_days"]


class CadenceViewSet(ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The city's visit cadence per kind of household (tag 0: every household). POST sets one (city)."""

    serializer_class = CadenceSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[VisitCadence]:
        tenant_id = scoping.tenant_of(self.request.user)
        if tenant_id is None:
            return VisitCadence.objects.none()
        return VisitCadence.objects.filter(tenant_id=tenant_id).order_by("interval_days", "tag")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CadenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant_id = scoping.tenant_of(request.user)
        if tenant_id is None:
            raise PermissionDenied(_("Only the city sets the visit cadence."))
        with service_errors_as_400():
            cadence = services.cadence_set(
                actor=_actor(request),
                tenant_id=tenant_id,
                tag=data.validated_data.get("tag", 0),
                interval_days=data.validated_data["interval_days"],
            )
        return Response(CadenceSerializer(cadence).data, status=status.HTTP_201_CREATED)


class VisitSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="household.number", read_only=True)
    visitor_name = serializers.CharField(source="visitor.__str__", read_only=True)
    plot_name = serializers.CharField(source="plot.name", read_only=True)
    responsible = serializers.CharField(source="assignment.member.__str__", read_only=True, default=None)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "client_id",
            "household",
            "household_number",
            "plot",
            "plot_name",
            "visitor",
            "visitor_name",
            "responsible",
            "visited_on",
            "seen",
            "heard",
            "record_note",
            "outcome",
            "resolution",
            "photos",
            "created_at",
        ]
        read_only_fields = fields

    def get_photos(self, visit: Visit) -> list[dict[str, Any]]:
        return [{"id": p.pk, "name": p.name, "size": p.size} for p in visit.photos.all()]


class VisitCreateSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    household = serializers.CharField()
    visited_on = serializers.DateField()
    seen = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    heard = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    outcome = serializers.ChoiceField(choices=VisitOutcome.choices, default=VisitOutcome.ROUTINE)
    resolution = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    tags = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)


class VisitViewSet(ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Visits (走访) in the user's grid. POST stores one visit, exactly once per `client_id`."""

    serializer_class = VisitSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[Visit]:
        return selectors.visits_visible(self.request.user)

    @extend_schema(
        request=VisitCreateSerializer,
        responses={201: VisitSerializer, 200: VisitSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VisitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with service_errors_as_400():
            try:
                visit, created = services.visit_record(
                    actor=_actor(request),
                    client_id=v["client_id"],
                    household_id=v["household"],
                    visited_on=v["visited_on"],
                    seen=v["seen"],
                    heard=v["heard"],
                    outcome=v["outcome"],
                    resolution=v["resolution"],
                    tags=v["tags"],
                    photos=request.FILES.getlist("photos"),
                )
            except DjangoPermissionDenied as exc:
                raise PermissionDenied(str(exc) or None) from exc
        body = dict(VisitSerializer(self.get_queryset().get(pk=visit.pk)).data)
        body["status"] = "stored" if created else "already_stored"
        body["message"] = _("Visit stored.") if created else _("This visit was already stored.")
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- pairings ---------------------------------------------------------------------------------------

from grids.models import Household  # noqa: E402

from .models import Pairing  # noqa: E402


class PairingSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, default=None)
    officer_name = serializers.CharField(source="officer.__str__", read_only=True, default=None)
    cell_name = serializers.CharField(source="cell.name", read_only=True, default=None)
    household_number = serializers.CharField(source="household.number", read_only=True, default=None)
    visits_this_month = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Pairing
        fields = [
            "id",
            "kind",
            "unit",
            "unit_name",
            "cell",
            "cell_name",
            "officer",
            "officer_name",
            "household",
            "household_number",
            "note",
            "started_on",
            "ended_on",
            "visits_this_month",
        ]
        read_only_fields = fields


class PairingCreateSerializer(serializers.Serializer):
    unit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    cell = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    officer = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    household = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class PairingViewSet(ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pairings (百家单位联百村、百名干警联百户) in the user's grid, each with its visits this month.

    POST pairs a unit with a village (`unit`, `cell`) or a police officer with a household
    (`officer`, `household`); it needs `assign_plots` there. `mine` lists the signed-in person's own.
    """

    serializer_class = PairingSerializer

    def get_queryset(self) -> QuerySet[Pairing]:
        qs = (
            selectors.pairings_visible(self.request.user)
            .annotate(visits_this_month=selectors._pairing_visits_this_month(timezone.localdate()))
            .order_by("kind", "id")
        )
        if self.request.query_params.get("open") == "1":
            qs = qs.filter(ended_on__isnull=True)
        return qs

    @extend_schema(request=PairingCreateSerializer, responses={201: PairingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PairingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tenant_id = scoping.tenant_of(request.user) or 0
        unit = cell = officer = household = None
        if v.get("unit") is not None:
            unit = Unit.objects.filter(pk=v["unit"], tenant_id=tenant_id).first()
            if unit is None:
                raise serializers.ValidationError({"unit": [_("No such unit in this city.")]})
        if v.get("cell") is not None:
            cell = scoping.get_node_or_404(request.user, v["cell"])
        if v.get("officer") is not None:
            officer = User.objects.filter(pk=v["officer"], tenant_id=tenant_id, is_active=True).first()
            if officer is None:
                raise serializers.ValidationError({"officer": [_("No such person in this city.")]})
        if v.get("household") is not None:
            household = scoping.get_in_scope_or_404(
                scoping.scope_rows(request.user, scoping.VIEW, Household.objects.select_related("plot")),
                pk=v["household"],
            )
        with service_errors_as_400():
            pairing = services.pairing_create(
                actor=_actor(request),
                unit=unit,
                cell=cell,
                officer=officer,
                household=household,
                note=v["note"],
            )
        return Response(PairingSerializer(self.get_queryset().get(pk=pairing.pk)).data, status=201)

    @extend_schema(request=None, responses={200: PairingSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the pairing today; its visits stay counted."""
        pairing = self.get_object()
        with service_errors_as_400():
            services.pairing_end(actor=_actor(request), pairing=pairing)
        return Response(PairingSerializer(self.get_queryset().get(pk=pairing.pk)).data)

    @extend_schema(responses={200: PairingSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def mine(self, request: Request) -> Response:
        """The signed-in person's open pairings (as the officer or through their unit)."""
        return Response(PairingSerializer(selectors.my_pairings(actor=request.user), many=True).data)


# --- the work log (工作日志) --------------------------------------------------------------------------

from ruian_grid import worklog  # noqa: E402

from .models import WorkLogNote  # noqa: E402
from .views import log_subject  # noqa: E402


class LogEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    detail = serializers.CharField()
    url = serializers.CharField()
    actor = serializers.CharField()
    note_id = serializers.IntegerField(allow_null=True)
    editable = serializers.BooleanField()


class LogNoteSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.__str__", read_only=True)

    class Meta:
        model = WorkLogNote
        fields = [
            "id",
            "person",
            "node",
            "day",
            "kind",
            "author",
            "author_name",
            "text",
            "created_at",
            "edited_at",
        ]
        read_only_fields = fields


class LogNoteWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


_LOG_PARAMS = [
    OpenApiParameter("person", OpenApiTypes.INT, description="whose log (default: the signed-in person)"),
    OpenApiParameter("node", OpenApiTypes.INT, description="or an office's log: a township or cell grid"),
    OpenApiParameter("date", OpenApiTypes.DATE, description="the day (default: today, Asia/Shanghai)"),
]


class WorkLogViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """The daily work log (工作日志) of a person or an office: what they did in the system that day
    (visits, case timeline entries, registry changes) and the notes added. Notes are written on the
    day itself; a closed day (before today) takes annotations only, which are never changed."""

    serializer_class = LogNoteSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[WorkLogNote]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, with no real request
            return WorkLogNote.objects.none()
        person, node, day = log_subject(self.request, self.request.query_params)
        return selectors.log_notes(reader=self.request.user, day=day, person=person, node=node)

    @extend_schema(parameters=_LOG_PARAMS, responses={200: LogEntrySerializer(many=True)})
    def list(self, request: Request) -> Response:
        person, node, day = log_subject(request, request.query_params)
        found = worklog.entries(worklog.LogQuery(reader=request.user, day=day, person=person, node=node))
        return Response(LogEntrySerializer(found, many=True).data)

    @extend_schema(parameters=_LOG_PARAMS, request=LogNoteWriteSerializer, responses={201: LogNoteSerializer})
    @action(detail=False, methods=["post"])
    def notes(self, request: Request) -> Response:
        """Add a note (an open day, one's own or one's office's log) or an annotation (otherwise)."""
        person, node, day = log_subject(request, request.query_params)
        data = LogNoteWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors_as_400():
            note = services.worklog_note_add(
                actor=_actor(request), day=day, text=data.validated_data["text"], person=person, node=node
            )
        return Response(LogNoteSerializer(note).data, status=201)

    @extend_schema(parameters=_LOG_PARAMS, request=LogNoteWriteSerializer, responses={200: LogNoteSerializer})
    @action(detail=False, methods=["patch"], url_path=r"notes/(?P<note_pk>\d+)")
    def note_edit(self, request: Request, note_pk: str) -> Response:
        """Change one's own note while its day is open."""
        note = scoping.get_in_scope_or_404(self.get_queryset(), pk=note_pk)
        data = LogNoteWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors_as_400():
            note = services.worklog_note_edit(
                actor=_actor(request), note=note, text=data.validated_data["text"]
            )
        return Response(LogNoteSerializer(note).data)
