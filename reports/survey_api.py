"""/api/v1/reports/surveys/: the city's satisfaction surveys, their index per grid and their links.

Thin: surveys through `reports.survey.surveys_visible`, nodes through `grids.scoping`, changes through
the `reports.survey` use cases (refusals as 400/403 with the services' Chinese messages).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from grids import scoping
from grids.models import GridNode, Tenant
from ruian_grid.errors import service_errors_as_400

from . import survey
from .survey_models import QuestionKind, Survey


class QuestionIn(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=QuestionKind.choices)


class SurveyIn(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    questions = QuestionIn(many=True)


class QuestionOut(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.CharField()


class SurveyOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.CharField()


class IndexOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    responses = serializers.IntegerField()
    index = serializers.FloatField(allow_null=True)
    insufficient = serializers.BooleanField()


class SurveyDetailOut(SurveyOut):
    questions = QuestionOut(many=True)
    minimum = serializers.IntegerField()
    node = IndexOut()
    children = IndexOut(many=True)


class LinkOut(serializers.Serializer):
    cell = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()


def _survey_dict(item: Survey) -> dict[str, Any]:
    return {
        "id": item.pk,
        "title": item.title,
        "period_start": item.period_start,
        "period_end": item.period_end,
        "status": item.status,
    }


def _row(node: GridNode, sums: survey.IndexSums) -> dict[str, Any]:
    return {"id": node.pk, "name": node.name, "code": node.code, **survey.index_dict(sums)}


def _node(request: Request) -> GridNode:
    pk = request.query_params.get("node") or getattr(request.user, "home_node_id", None)
    if pk in (None, ""):
        top = scoping.top_nodes(request.user).first()
        pk = top.pk if top else None
    return scoping.get_node_or_404(request.user, pk)


NODE_PARAM = OpenApiParameter("node", OpenApiTypes.INT, description="grid node (default: your home node)")


class Scoped(GenericAPIView):  # type: ignore[type-arg]
    scoped = True
    pagination_class = None  # a city sets a few surveys a year: the list is capped, not paged

    def get_queryset(self) -> Any:
        return survey.surveys_visible(self.request.user)

    def survey(self, pk: Any) -> Survey:
        return scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)


class SurveyListView(Scoped):
    """The city's surveys (newest first, at most 200); the city's administrators create one."""

    @extend_schema(responses={200: SurveyOut(many=True)})
    def get(self, request: Request) -> Response:
        items = survey.survey_list(request.user)[:200]
        return Response(SurveyOut([_survey_dict(s) for s in items], many=True).data)

    @extend_schema(request=SurveyIn, responses={201: SurveyOut})
    def post(self, request: Request) -> Response:
        data = SurveyIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        tenant_id = scoping.tenant_of(request.user)
        if tenant_id is None:
            raise serializers.ValidationError(
                {"tenant": [_("Only the city's administrators set the satisfaction survey.")]}
            )
        with service_errors_as_400():
            created = survey.survey_create(
                actor=request.user,  # type: ignore[arg-type]
                tenant=Tenant(pk=tenant_id),
                title=v["title"],
                period_start=v["period_start"],
                period_end=v["period_end"],
                questions=v["questions"],
            )
        return Response(SurveyOut(_survey_dict(created)).data, status=status.HTTP_201_CREATED)


class SurveyDetailView(Scoped):
    """A survey, its questions and its index (0-100) for a node and each grid below it."""

    @extend_schema(parameters=[NODE_PARAM], responses={200: SurveyDetailOut})
    def get(self, request: Request, pk: int) -> Response:
        item = self.survey(pk)
        node = _node(request)
        table = survey.index_by_child(request.user, item, node)
        body = {
            **_survey_dict(item),
            "questions": [{"id": q.pk, "text": q.text, "kind": q.kind} for q in survey.questions_of(item)],
            "minimum": survey.SURVEY_MIN_RESPONSES,
            "node": _row(node, table.total),
            "children": [_row(c, sums) for c, sums in table.children],
        }
        return Response(SurveyDetailOut(body).data)


class SurveyActionView(Scoped):
    """Open (every cell gets its link) or close a survey: the city's administrators."""

    action_name = "open"

    @extend_schema(request=None, responses={200: SurveyOut})
    def post(self, request: Request, pk: int) -> Response:
        item = self.survey(pk)
        use_case = survey.survey_open if self.action_name == "open" else survey.survey_close
        with service_errors_as_400():
            item = use_case(actor=request.user, survey=item)  # type: ignore[arg-type]
        return Response(SurveyOut(_survey_dict(item)).data)


class SurveyLinksView(Scoped):
    """The links of the cells under a node the caller may see, to print or to send."""

    @extend_schema(parameters=[NODE_PARAM], responses={200: LinkOut(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        from .survey_views import public_url

        item = self.survey(pk)
        node = _node(request)
        links = survey.links_in_scope(request.user, item, node)[:2000]
        rows = [
            {"cell": link.node_id, "name": link.node.name, "url": public_url(link.token)} for link in links
        ]
        return Response(LinkOut(rows, many=True).data)
