"""/api/v1/mechanisms/...: thin — parse, resolve ids through selectors, call one service, render.

An id out of the user's scope is the same 404 as a missing one; a refused input is a 400 naming the
field, in Chinese, with nothing written; an action the user has no right to is a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases import selectors as case_selectors
from cases.models import CaseKind, SubKind
from ruian_grid.errors import service_errors_as_400
from ruian_grid.scoped import ScopedReadOnlyViewSet

from . import selectors, services
from .models import (
    Campaign,
    CampaignKind,
    Decision,
    DisputeReview,
    EarlyWarningDraft,
    InfoPost,
    Meeting,
    Metric,
    Operation,
    Patrol,
    Phase,
    SecurityAnalysis,
    SecurityWarning,
    WarningLevel,
)


def _valid(cls: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    body = cls(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


def _node(request: Request, pk: Any, field: str = "node") -> Any:
    node = selectors.node_get(request.user, pk)
    if node is None:
        raise serializers.ValidationError({field: [_("No such grid in your scope.")]})
    return node


def _unit(request: Request, pk: Any, field: str) -> Any:
    if pk in (None, ""):
        return None
    unit = case_selectors.unit_get(request.user, pk)
    if unit is None:
        raise serializers.ValidationError({field: [_("Choose an active unit of this city.")]})
    return unit


def _person(request: Request, pk: Any, field: str = "person") -> Any:
    if pk in (None, ""):
        return None
    person = case_selectors.person_get(request.user, pk)
    if person is None:
        raise serializers.ValidationError({field: [_("No such person in this city.")]})
    return person


# --- reviews --------------------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)
    signed_by_name = serializers.CharField(source="signed_by.__str__", read_only=True, default=None)

    class Meta:
        model = DisputeReview
        fields = [
            "id", "node", "node_name", "month", "status", "opened_at", "due_at", "analysis",
            "signed_by", "signed_by_name", "signed_at", "chased_at", "supervised_at", "version",
        ]  # fmt: skip
        read_only_fields = fields


class _OpenReview(serializers.Serializer):
    node = serializers.IntegerField()
    month = serializers.DateField(help_text=_("Any day of the month to review."))


class _Analysis(serializers.Serializer):
    analysis = serializers.CharField(allow_blank=True, max_length=5000)


class _ReviewConfirm(serializers.Serializer):
    case = serializers.IntegerField()
    unit = serializers.IntegerField(allow_null=True)
    person = serializers.IntegerField(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ReviewViewSet(ScopedReadOnlyViewSet):
    """Monthly dispute reviews (矛盾联调) of the townships and the city in scope."""

    serializer_class = ReviewSerializer

    def get_queryset(self) -> QuerySet[DisputeReview]:
        return selectors.reviews_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        data = dict(ReviewSerializer(review).data)
        if review.is_signed:
            data["record"] = review.snapshot
        else:
            data["figures"] = selectors.review_figures(review)
            data["disputes"] = [selectors.dispute_row_json(r) for r in selectors.review_dispute_rows(review)]
        return Response(data)

    @extend_schema(request=_OpenReview, responses={201: ReviewSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_OpenReview, request)
        node = _node(request, values["node"])
        with service_errors_as_400():
            review = services.review_open(
                actor=selectors.signed_in(request), node=node, month=values["month"]
            )
        return Response(ReviewSerializer(review).data, status=201)

    @extend_schema(request=_Analysis, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def analysis(self, request: Request, pk: Any = None) -> Response:
        review = self.get_object()
        values = _valid(_Analysis, request)
        with service_errors_as_400():
            review = services.review_save_analysis(
                actor=selectors.signed_in(request), review=review, analysis=values["analysis"]
            )
        return Response(ReviewSerializer(review).data)

    @extend_schema(request=_ReviewConfirm, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: Any = None) -> Response:
        review = self.get_object()
        values = _valid(_ReviewConfirm, request)
        case = case_selectors.merge_target_get(request.user, values["case"])
        if case is None:
            raise serializers.ValidationError({"case": [_("No such case in your scope.")]})
        with service_errors_as_400():
            item = services.review_confirm(
                actor=selectors.signed_in(request),
                review=review,
                case=case,
                unit=_unit(request, values["unit"], "unit"),
                person=_person(request, values["person"]),
                due_at=values["due_at"],
                note=values["note"],
            )
        return Response(
            {"case": item.case_id, "unit": item.unit_id, "person": item.person_id, "due_at": item.due_at}
        )

    @extend_schema(request=None, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: Any = None) -> Response:
        review = self.get_object()
        with service_errors_as_400():
            review = services.review_sign(actor=selectors.signed_in(request), review=review)
        return Response(ReviewSerializer(review).data)


# --- warnings and drafts --------------------------------------------------------------------------


class WarningSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)
    acknowledged = serializers.IntegerField(source="acks_count", read_only=True, default=0)

    class Meta:
        model = SecurityWarning
        fields = [
            "id", "node", "node_name", "level", "title", "measures", "starts_at", "ends_at", "status",
            "published_by", "published_at", "cells_expected", "acknowledged",
        ]  # fmt: skip
        read_only_fields = fields


class _Publish(serializers.Serializer):
    node = serializers.IntegerField(required=False, allow_null=True, default=None)
    level = serializers.ChoiceField(choices=WarningLevel.choices)
    title = serializers.CharField(max_length=200)
    measures = serializers.CharField(max_length=5000)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class _Ack(serializers.Serializer):
    cell = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class WarningViewSet(ScopedReadOnlyViewSet):
    """Security warnings (治安预警预报) published to a subtree, and which cells acknowledged them."""

    serializer_class = WarningSerializer

    def get_queryset(self) -> QuerySet[SecurityWarning]:
        return selectors.warnings_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        warning = self.get_object()
        data = dict(WarningSerializer(warning).data)
        data["cells"] = [
            {"id": c.pk, "name": c.name, "acknowledged": c.acked} for c in selectors.warning_cells(warning)
        ]
        data["not_acknowledged"] = [c["id"] for c in data["cells"] if not c["acknowledged"]]
        return Response(data)

    @extend_schema(request=_Publish, responses={201: WarningSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Publish, request)
        node_pk = values.pop("node")
        node = _node(request, node_pk) if node_pk is not None else None
        with service_errors_as_400():
            warning = services.warning_publish(actor=selectors.signed_in(request), node=node, **values)
        return Response(WarningSerializer(selectors.warning_get(request.user, warning.pk)).data, status=201)

    @extend_schema(request=_Ack, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        warning = self.get_object()
        values = _valid(_Ack, request)
        cell = selectors.node_get(request.user, values["cell"])
        if cell is None:
            raise serializers.ValidationError({"cell": [_("You may not acknowledge for this cell.")]})
        with service_errors_as_400():
            ack = services.warning_acknowledge(
                actor=selectors.signed_in(request), warning=warning, cell=cell, note=values["note"]
            )
        return Response({"warning": warning.pk, "cell": ack.cell_id, "at": ack.at}, status=201)


class DraftSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)

    class Meta:
        model = EarlyWarningDraft
        fields = [
            "id", "node", "node_name", "sub_kind", "week", "window_end", "observed", "baseline_weeks",
            "baseline_total", "expected", "p_value", "method", "status", "decided_by", "decided_at",
            "reason", "warning", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class _Dismiss(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000)


class _PublishDraft(serializers.Serializer):
    level = serializers.ChoiceField(choices=WarningLevel.choices)
    measures = serializers.CharField(max_length=5000)
    ends_at = serializers.DateTimeField()


class DraftViewSet(ScopedReadOnlyViewSet):
    """Early-warning drafts raised nightly from the incidents; the township dismisses or publishes."""

    serializer_class = DraftSerializer

    def get_queryset(self) -> QuerySet[EarlyWarningDraft]:
        return selectors.drafts_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object()
        return Response({**DraftSerializer(draft).data, "series": selectors.draft_series(draft)})

    @extend_schema(request=_Dismiss, responses={200: DraftSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: Any = None) -> Response:
        draft = self.get_object()
        values = _valid(_Dismiss, request)
        with service_errors_as_400():
            draft = services.draft_dismiss(
                actor=selectors.signed_in(request), draft=draft, reason=values["reason"]
            )
        return Response(DraftSerializer(draft).data)

    @extend_schema(request=_PublishDraft, responses={201: WarningSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: Any = None) -> Response:
        draft = self.get_object()
        values = _valid(_PublishDraft, request)
        with service_errors_as_400():
            warning = services.draft_publish(actor=selectors.signed_in(request), draft=draft, **values)
        return Response(WarningSerializer(selectors.warning_get(request.user, warning.pk)).data, status=201)


# --- meetings and decisions -----------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.name", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "meeting",
            "text",
            "owner",
            "owner_name",
            "due_at",
            "status",
            "done_at",
            "done_note",
            "overdue_at",
        ]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "node",
            "node_name",
            "title",
            "starts_at",
            "place",
            "agenda",
            "minutes",
            "status",
            "organiser",
        ]
        read_only_fields = fields


class _Schedule(serializers.Serializer):
    node = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    units = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    agenda = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class _Minutes(serializers.Serializer):
    minutes = serializers.CharField(max_length=5000)
    attended = serializers.ListField(child=serializers.IntegerField(), default=list)


class _Decision(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class MeetingViewSet(ScopedReadOnlyViewSet):
    """Joint meetings (工作例会) of member departments, their minutes and decisions."""

    serializer_class = MeetingSerializer

    def get_queryset(self) -> QuerySet[Meeting]:
        if self.action == "retrieve":
            return selectors.meetings_visible(self.request.user).prefetch_related(
                "invitees__unit", "decisions__owner"
            )
        return selectors.meetings_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        data = dict(MeetingSerializer(meeting).data)
        data["invitees"] = [
            {"unit": i.unit_id, "name": i.unit.name, "attended": i.attended} for i in meeting.invitees.all()
        ]
        data["decisions"] = DecisionSerializer(meeting.decisions.all(), many=True).data
        return Response(data)

    @extend_schema(request=_Schedule, responses={201: MeetingSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Schedule, request)
        node = _node(request, values.pop("node"))
        with service_errors_as_400():
            meeting = services.meeting_schedule(
                actor=selectors.signed_in(request), node=node, unit_ids=values.pop("units"), **values
            )
        return Response(MeetingSerializer(meeting).data, status=201)

    @extend_schema(request=_Minutes, responses={200: MeetingSerializer})
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: Any = None) -> Response:
        meeting = self.get_object()
        values = _valid(_Minutes, request)
        with service_errors_as_400():
            meeting = services.meeting_record(
                actor=selectors.signed_in(request),
                meeting=meeting,
                minutes=values["minutes"],
                attended_unit_ids=values["attended"],
            )
        return Response(MeetingSerializer(meeting).data)

    @extend_schema(request=_Decision, responses={201: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def decisions(self, request: Request, pk: Any = None) -> Response:
        meeting = self.get_object()
        values = _valid(_Decision, request)
        owner = _unit(request, values["owner"], "owner")
        with service_errors_as_400():
            decision = services.decision_add(
                actor=selectors.signed_in(request),
                meeting=meeting,
                text=values["text"],
                owner=owner,
                due_at=values["due_at"],
            )
        return Response(DecisionSerializer(decision).data, status=201)


class _Done(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class DecisionViewSet(ScopedReadOnlyViewSet):
    """Meeting decisions as action items: the owner unit reports them done."""

    serializer_class = DecisionSerializer

    def get_queryset(self) -> QuerySet[Decision]:
        return selectors.decisions_visible(self.request.user).select_related("meeting__node")

    @extend_schema(request=_Done, responses={200: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: Any = None) -> Response:
        decision = self.get_object()
        values = _valid(_Done, request)
        with service_errors_as_400():
            decision = services.decision_complete(
                actor=selectors.signed_in(request), decision=decision, note=values["note"]
            )
        return Response(DecisionSerializer(decision).data)


class OperationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operation
        fields = ["id", "node", "title", "meeting", "cases", "created_at"]
        read_only_fields = fields


class _Operation(serializers.Serializer):
    node = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    cases = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)


class OperationViewSet(ScopedReadOnlyViewSet):
    """Joint enforcement operations (联合整治): the hazard cases targeted and their progress."""

    serializer_class = OperationSerializer

    def get_queryset(self) -> QuerySet[Operation]:
        return selectors.operations_visible(self.request.user).prefetch_related("cases")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        op = self.get_object()
        return Response({**OperationSerializer(op).data, "progress": selectors.operation_progress(op)})

    @extend_schema(request=_Operation, responses={201: OperationSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Operation, request)
        node = _node(request, values["node"])
        cases = list(case_selectors.cases_visible(request.user).filter(pk__in=values["cases"]))
        if len(cases) != len(set(values["cases"])):
            raise serializers.ValidationError({"cases": [_("No such case in your scope.")]})
        with service_errors_as_400():
            op = services.operation_create(
                actor=selectors.signed_in(request), node=node, title=values["title"], cases=cases
            )
        return Response(OperationSerializer(op).data, status=201)


# --- shared information ---------------------------------------------------------------------------


class PostSerializer(serializers.ModelSerializer):
    node_name = serializers.CharField(source="node.name", read_only=True)
    author_name = serializers.CharField(source="author.__str__", read_only=True)
    read = serializers.BooleanField(read_only=True, default=False)
    read_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = InfoPost
        fields = [
            "id",
            "node",
            "node_name",
            "author",
            "author_name",
            "title",
            "body",
            "share_up",
            "created_at",
            "read",
            "read_count",
        ]
        read_only_fields = fields


class _Post(serializers.Serializer):
    node = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)
    share_up = serializers.BooleanField(default=False)


class PostViewSet(ScopedReadOnlyViewSet):
    """Shared information (信息共享): notes and guidance, with who has read them and who has not."""

    serializer_class = PostSerializer

    def get_queryset(self) -> QuerySet[InfoPost]:
        return selectors.posts_visible(self.request.user)

    @extend_schema(request=_Post, responses={201: PostSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Post, request)
        node = _node(request, values.pop("node"))
        with service_errors_as_400():
            post = services.post_create(actor=selectors.signed_in(request), node=node, **values)
        return Response(PostSerializer(selectors.post_get(request.user, post.pk)).data, status=201)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        post = self.get_object()
        services.post_mark_read(actor=selectors.signed_in(request), post=post)
        return Response({"post": post.pk, "read": True})

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def receipts(self, request: Request, pk: Any = None) -> Response:
        reads, unread = selectors.post_audience(self.get_object())
        return Response(
            {
                "read": [{"user": r.user_id, "name": str(r.user), "at": r.read_at} for r in reads],
                "not_read": [{"user": u.pk, "name": str(u)} for u in unread],
            }
        )


# --- analyses and patrols -------------------------------------------------------------------------


class AnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityAnalysis
        fields = [
            "id",
            "node",
            "period_start",
            "period_end",
            "figures",
            "conclusions",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class _Analyse(serializers.Serializer):
    node = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    conclusions = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class AnalysisViewSet(ScopedReadOnlyViewSet):
    """Security situation analyses (治安形势分析): incidents by grid and kind with the trend."""

    serializer_class = AnalysisSerializer

    def get_queryset(self) -> QuerySet[SecurityAnalysis]:
        return selectors.analyses_visible(self.request.user)

    @extend_schema(request=_Analyse, responses={201: AnalysisSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Analyse, request)
        node = _node(request, values.pop("node"))
        with service_errors_as_400():
            analysis = services.analysis_create(actor=selectors.signed_in(request), node=node, **values)
        return Response(AnalysisSerializer(analysis).data, status=201)


class _FindingIn(serializers.Serializer):
    plot = serializers.IntegerField()
    text = serializers.CharField(max_length=500)
    raise_case = serializers.BooleanField(default=False)
    kind = serializers.ChoiceField(
        choices=[CaseKind.HAZARD, CaseKind.INCIDENT, CaseKind.DISPUTE], default=CaseKind.HAZARD
    )
    sub_kind = serializers.ChoiceField(choices=SubKind.choices, default=SubKind.OTHER)


class _Patrol(serializers.Serializer):
    cell = serializers.IntegerField()
    team = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    team_unit = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A service team (unit) of the cell."
    )
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    plots = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    members = serializers.ListField(child=serializers.IntegerField(), default=list)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    findings = _FindingIn(many=True, required=False, default=list)


class _ToCase(serializers.Serializer):
    finding = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=[CaseKind.HAZARD, CaseKind.INCIDENT, CaseKind.DISPUTE])
    sub_kind = serializers.ChoiceField(choices=SubKind.choices, default=SubKind.OTHER)


class PatrolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patrol
        fields = [
            "id",
            "node",
            "team",
            "team_unit",
            "started_at",
            "ended_at",
            "note",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


def _service_team(cell: Any, pk: int | None) -> Any:
    if pk is None:
        return None
    team = selectors.service_teams_of(cell).filter(pk=pk).first()
    if team is None:
        raise serializers.ValidationError({"team_unit": [_("Choose a service team of this cell.")]})
    return team


class PatrolViewSet(ScopedReadOnlyViewSet):
    """Patrols (巡防): team, time, plots covered and findings; a finding becomes a case in one step."""

    serializer_class = PatrolSerializer

    def get_queryset(self) -> QuerySet[Patrol]:
        return selectors.patrols_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patrol = selectors.patrol_get(request.user, kwargs["pk"])
        data = dict(PatrolSerializer(patrol).data)
        data["plots"] = [p.pk for p in patrol.plots.all()]
        data["findings"] = [
            {"id": f.pk, "plot": f.plot_id, "text": f.text, "case": f.case_id} for f in patrol.findings.all()
        ]
        return Response(data)

    @extend_schema(request=_Patrol, responses={201: PatrolSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Patrol, request)
        cell = _node(request, values["cell"], "cell")
        plots = list(selectors.plots_of(cell).filter(pk__in=values["plots"]))
        if len(plots) != len(set(values["plots"])):
            raise serializers.ValidationError(
                {"plots": [_("Choose the plots of this cell that were covered.")]}
            )
        by_pk = {p.pk: p for p in plots}
        specs = []
        for f in values["findings"]:
            if f["plot"] not in by_pk:
                raise serializers.ValidationError(
                    {"findings": [_("A finding must lie in a plot the patrol covered.")]}
                )
            specs.append(
                services.FindingSpec(by_pk[f["plot"]], f["text"], f["raise_case"], f["kind"], f["sub_kind"])
            )
        with service_errors_as_400():
            patrol = services.patrol_record(
                actor=selectors.signed_in(request),
                cell=cell,
                team=values["team"],
                team_unit=_service_team(cell, values["team_unit"]),
                started_at=values["started_at"],
                ended_at=values["ended_at"],
                plots=plots,
                member_ids=values["members"],
                note=values["note"],
                findings=specs,
            )
        return Response(PatrolSerializer(patrol).data, status=201)

    @extend_schema(request=_ToCase, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="raise-case")
    def raise_case(self, request: Request, pk: Any = None) -> Response:
        patrol = self.get_object()
        values = _valid(_ToCase, request)
        finding = patrol.findings.filter(pk=values["finding"]).first()
        if finding is None:
            raise serializers.ValidationError({"finding": [_("No such finding on this patrol.")]})
        with service_errors_as_400():
            case = services.finding_to_case(
                actor=selectors.signed_in(request),
                finding=finding,
                kind=values["kind"],
                sub_kind=values["sub_kind"],
            )
        return Response({"finding": finding.pk, "case": case.pk}, status=201)


# --- campaigns ------------------------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "node", "kind", "name", "starts_on", "ends_on", "watched_sub_kind"]
        read_only_fields = fields


class _Campaign(serializers.Serializer):
    node = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CampaignKind.choices)
    name = serializers.CharField(max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    watched_sub_kind = serializers.CharField(required=False, allow_blank=True, default="")


class _Milestone(serializers.Serializer):
    phase = serializers.ChoiceField(choices=Phase.choices)
    title = serializers.CharField(max_length=200)
    due_on = serializers.DateField()
    metric = serializers.ChoiceField(choices=Metric.choices)
    case_kind = serializers.CharField(required=False, allow_blank=True, default="")
    case_sub_kind = serializers.CharField(required=False, allow_blank=True, default="")
    target_percent = serializers.IntegerField(min_value=1, max_value=100, default=100)


class CampaignViewSet(ScopedReadOnlyViewSet):
    """Campaigns (专项行动) and programmes: milestones whose progress is measured from the data."""

    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        return selectors.campaigns_visible(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = selectors.campaign_get(request.user, kwargs["pk"])
        data = dict(CampaignSerializer(campaign).data)
        data["milestones"] = [
            {
                "id": m.pk,
                "phase": m.phase,
                "title": m.title,
                "due_on": m.due_on,
                "metric": m.metric,
                "target_percent": m.target_percent,
                "by_township": selectors.milestone_progress(m, campaign),
            }
            for m in campaign.milestones.all()
        ]
        data["monthly"] = selectors.campaign_monthly(campaign)
        return Response(data)

    @extend_schema(request=_Campaign, responses={201: CampaignSerializer})
    def create(self, request: Request) -> Response:
        values = _valid(_Campaign, request)
        node = _node(request, values.pop("node"))
        with service_errors_as_400():
            campaign = services.campaign_create(actor=selectors.signed_in(request), node=node, **values)
        return Response(CampaignSerializer(campaign).data, status=201)

    @extend_schema(request=_Milestone, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def milestones(self, request: Request, pk: Any = None) -> Response:
        campaign = self.get_object()
        values = _valid(_Milestone, request)
        with service_errors_as_400():
            m = services.milestone_add(actor=selectors.signed_in(request), campaign=campaign, **values)
        return Response({"id": m.pk, "title": m.title}, status=201)


ROUTES = (
    ("mechanisms/reviews", ReviewViewSet, "mech-review"),
    ("mechanisms/warnings", WarningViewSet, "mech-warning"),
    ("mechanisms/drafts", DraftViewSet, "mech-draft"),
    ("mechanisms/meetings", MeetingViewSet, "mech-meeting"),
    ("mechanisms/decisions", DecisionViewSet, "mech-decision"),
    ("mechanisms/operations", OperationViewSet, "mech-operation"),
    ("mechanisms/posts", PostViewSet, "mech-post"),
    ("mechanisms/analyses", AnalysisViewSet, "mech-analysis"),
    ("mechanisms/patrols", PatrolViewSet, "mech-patrol"),
    ("mechanisms/campaigns", CampaignViewSet, "mech-campaign"),
)
