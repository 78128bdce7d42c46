"""/api/v1/reports/dashboard/?node=&month=: every figure of a dashboard (thin: parse, select, render)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
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


# --- assessment ----------------------------------------------------------------------------------

from decimal import Decimal, InvalidOperation  # noqa: E402

from django.core.exceptions import ValidationError as DjangoValidationError  # noqa: E402
from rest_framework import status  # noqa: E402
from rest_framework.generics import GenericAPIView  # noqa: E402

from ruian_grid.errors import service_errors_as_400  # noqa: E402
from ruian_grid.inputs import ID_MAX  # noqa: E402

from . import services  # noqa: E402
from .models import Indicator, Round, Scheme, VetoHit  # noqa: E402


class IndicatorIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    source = serializers.CharField(max_length=20)  # type: ignore[assignment]  # popped by the metaclass
    weight = serializers.IntegerField()


class VetoIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    rule = serializers.CharField(max_length=20, required=False, allow_blank=True)
    threshold = serializers.IntegerField(required=False, default=1)


class SchemeIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    min_cases = serializers.IntegerField(min_value=1, max_value=1000, default=5)
    min_households = serializers.IntegerField(min_value=1, max_value=100000, default=100)
    indicators = IndicatorIn(many=True)
    vetoes = VetoIn(many=True, required=False, default=list)


class Scoped(GenericAPIView):  # type: ignore[type-arg]
    scoped = True
    pagination_class = None  # a city has a few rounds a year: the list is capped, not paged

    def get_queryset(self) -> Any:
        return selectors.rounds_visible(self.request.user)

    def round(self, pk: Any) -> Round:
        return scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)


class SchemeCreateView(Scoped):
    """Create an assessment scheme: indicators whose weights add up to 100, veto items with rules."""

    @extend_schema(request=SchemeIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = SchemeIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tenant = scoping.tenant_of(request.user)
        if tenant is None:
            raise serializers.ValidationError(
                {"tenant": [_("Only a city's administrators run the assessment.")]}
            )
        from grids.models import Tenant

        with service_errors_as_400():
            scheme = services.scheme_create(
                actor=request.user,  # type: ignore[arg-type]
                tenant=Tenant.objects.get(pk=tenant),
                name=v["name"],
                period_start=v["period_start"],
                period_end=v["period_end"],
                indicators=[dict(i) for i in v["indicators"]],
                vetoes=[dict(x) for x in v["vetoes"]],
                min_cases=v["min_cases"],
                min_households=v["min_households"],
            )
        return Response({"id": scheme.pk, "name": scheme.name}, status=status.HTTP_201_CREATED)


class RoundListView(Scoped):
    """The rounds of the city; POST opens a round of a scheme (`scheme`, `name`)."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "AssessmentRound",
                {
                    "id": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "status": serializers.CharField(),
                    "scheme": serializers.CharField(),
                    "period_start": serializers.DateField(),
                    "period_end": serializers.DateField(),
                },
                many=True,
            )
        }
    )
    def get(self, request: Request) -> Response:
        rounds = self.get_queryset().order_by("-created_at", "-id")[:200]
        return Response(
            [
                {"id": r.pk, "name": r.name, "status": r.status, "scheme": r.scheme.name,
                 "period_start": r.scheme.period_start, "period_end": r.scheme.period_end}
                for r in rounds
            ]
        )  # fmt: skip

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        tenant = scoping.tenant_of(request.user)
        scheme = Scheme.objects.filter(tenant_id=tenant or 0, pk=_int(_data(request).get("scheme"))).first()
        if scheme is None:
            raise serializers.ValidationError({"scheme": [_("No such scheme in your city.")]})
        with service_errors_as_400():
            actor: Any = request.user
            rnd = services.round_open(actor=actor, scheme=scheme, name=str(_data(request).get("name", "")))
        return Response(
            {"id": rnd.pk, "name": rnd.name, "status": rnd.status}, status=status.HTTP_201_CREATED
        )


def _data(request: Request) -> dict[str, Any]:
    """The request body when it is an object (a list or a scalar body counts as empty)."""
    return request.data if hasattr(request.data, "get") else {}


def _int(value: Any) -> int:
    """An id from a body; anything that is not a key (text, floats, out of range) is 0 (no match)."""
    if isinstance(value, bool):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if 0 < number <= ID_MAX else 0


class RoundDetailView(Scoped):
    """A round's scorecards as the user may see them (the published snapshot once published)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.round_view(request.user, self.round(pk)))


class RoundActionView(Scoped):
    """POST compute | publish | manual-score on a round."""

    action_name = ""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        rnd = self.round(pk)
        actor: Any = request.user
        with service_errors_as_400():
            if self.action_name == "compute":
                rnd = services.round_compute(actor=actor, rnd=rnd)
            elif self.action_name == "publish":
                rnd = services.round_publish(actor=actor, rnd=rnd)
            else:
                body = _data(request)
                indicator = Indicator.objects.filter(
                    scheme_id=rnd.scheme_id, pk=_int(body.get("indicator"))
                ).first()
                unit = GridNode.objects.filter(tenant_id=rnd.tenant_id, pk=_int(body.get("unit"))).first()
                if indicator is None or unit is None:
                    raise DjangoValidationError(
                        {"indicator": [_("Name an indicator of this round and a township.")]}
                    )
                try:
                    points = Decimal(str(body.get("points", "")))
                except InvalidOperation as exc:
                    raise DjangoValidationError({"points": [_("A hand score is from 0 to 100.")]}) from exc
                services.manual_score_set(
                    actor=actor, rnd=rnd, indicator=indicator, unit=unit, points=points,
                    reason=str(body.get("reason", "")),
                )  # fmt: skip
        rnd.refresh_from_db()
        return Response(selectors.round_view(request.user, rnd))


class VetoActionView(Scoped):
    """POST appeal (`reason`) | decide (`grant`, `note`) on a veto hit."""

    action_name = ""

    def get_queryset(self) -> Any:
        from .work_reports import department_scorecards_visible

        townships = selectors.scorecards_visible(self.request.user).values("pk")
        departments = department_scorecards_visible(self.request.user).values("pk")
        return VetoHit.objects.filter(Q(scorecard__in=townships) | Q(scorecard__in=departments))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        hit = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        actor: Any = request.user
        with service_errors_as_400():
            if self.action_name == "appeal":
                hit = services.veto_appeal(actor=actor, hit=hit, reason=str(_data(request).get("reason", "")))
            else:
                body = _data(request)
                grant = body.get("grant") in (True, "true", "1", 1)
                hit = services.veto_decide(actor=actor, hit=hit, grant=grant, note=str(body.get("note", "")))
        return Response({"id": hit.pk, "status": hit.status})


class ScorecardRowsView(Scoped):
    """The cases behind one line (`indicator`) or one veto (`veto`) of a scorecard: the drill-down."""

    def get_queryset(self) -> Any:
        return selectors.scorecards_visible(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("indicator", OpenApiTypes.INT),
            OpenApiParameter("veto", OpenApiTypes.INT),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        card = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        data = selectors.round_view(request.user, card.round)
        mine = next((c for c in data["scorecards"] if c["id"] == card.pk), None)
        if mine is None:
            raise serializers.ValidationError({"scorecard": [_("No such scorecard.")]})
        evidence: dict[str, Any] = {}
        if request.query_params.get("veto"):
            hit = next((v for v in mine["vetoes"] if v["id"] == _int(request.query_params["veto"])), None)
            evidence = hit["evidence"] if hit else {}
        else:
            line = next(
                (x for x in mine["lines"] if x["indicator"] == _int(request.query_params.get("indicator"))),
                None,
            )
            evidence = line["evidence"] if line else {}
        ids = sorted(
            {i for key, rows in evidence.items() if isinstance(rows, list) and key != "orders" for i in rows}
        )
        cases = selectors.evidence_cases(request.user, ids)
        return Response(
            {
                "scorecard": card.pk,
                "evidence": evidence,
                "cases": [
                    {"id": c.pk, "number": c.number, "title": c.title, "kind": c.kind, "status": c.status,
                     "severity": c.severity, "created_at": c.created_at, "closed_at": c.closed_at}
                    for c in cases
                ],
            }
        )  # fmt: skip
