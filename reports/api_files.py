"""/api/v1/reports/: responsibility tracing, cadre performance files, work reports and department
scorecards (thin: parse, call one selector or service, render)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cases import selectors as case_selectors
from grids import scoping
from ruian_grid.errors import service_errors_as_400

from . import files, selectors, work_reports
from .models import WorkReport


class _Scoped(GenericAPIView):  # type: ignore[type-arg]
    scoped = True
    pagination_class = None


def year_or_400(value: Any) -> int:
    try:
        return files.parse_year(value)
    except (TypeError, ValueError) as exc:
        raise serializers.ValidationError({"year": [_("Give a year from 2000 to this year.")]}) from exc


class CaseTracingView(_Scoped):
    """Responsibility tracing of a case: who held it from when to when, in hours and working hours."""

    def get_queryset(self) -> Any:
        return case_selectors.cases_visible(self.request.user)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        case = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        tracing = files.trace(case)
        return Response(
            {
                "case": {"id": case.pk, "number": case.number, "title": case.title, "status": case.status},
                "holds": [h.as_dict() for h in tracing.holds],
                "totals": tracing.totals(),
            }
        )


class CadreListView(_Scoped):
    """The cadres whose performance files the user may read, 50 a page by user name (`after`, `q`)."""

    def get_queryset(self) -> Any:
        return files.cadres_visible(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("after", OpenApiTypes.STR), OpenApiParameter("q", OpenApiTypes.STR)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        people = files.cadre_page(
            request.user,
            after=str(request.query_params.get("after", ""))[:150],
            search=str(request.query_params.get("q", ""))[:50],
        )
        return Response(
            {
                "results": [
                    {"id": p.pk, "name": str(p), "username": p.username,
                     "home_node": p.home_node.name if p.home_node else None}
                    for p in people
                ],
                "next_after": people[-1].username if len(people) == files.PAGE else None,
            }
        )  # fmt: skip


class CadreFileView(_Scoped):
    """A cadre's performance file for a year (`year`, default this year)."""

    def get_queryset(self) -> Any:
        return files.cadres_visible(self.request.user)

    @extend_schema(
        parameters=[OpenApiParameter("year", OpenApiTypes.INT)], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, pk: int) -> Response:
        person = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        year = year_or_400(request.query_params.get("year"))
        return Response(files.file_payload(files.performance_file(request.user, person, year)))


def report_dict(r: WorkReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "unit": {"id": r.unit_id, "name": r.unit.name},
        "year": r.year,
        "text": r.text,
        "attachment": bool(r.attachment),
        "status": r.status,
        "submitted_by": str(r.submitted_by),
        "submitted_at": r.submitted_at.isoformat(),
        "reviewer": str(r.reviewer) if r.reviewer else None,
        "reviewed_at": r.reviewed_at.isoformat() if r.reviewed_at else None,
        "review_note": r.review_note,
        "score": float(r.score) if r.score is not None else None,
        "scored_at": r.scored_at.isoformat() if r.scored_at else None,
    }


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


class WorkReportIn(serializers.Serializer):
    unit = serializers.IntegerField()
    year = serializers.IntegerField()
    text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    attachment = serializers.FileField(required=False)


class WorkReportListView(_Scoped):
    """The work reports the user may see (`year`); POST submits one (`unit`, `year`, `text`, `attachment`)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return work_reports.work_reports_visible(self.request.user)

    @extend_schema(
        operation_id="v1_reports_work_reports_list",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT)],
        responses={200: {"type": "array", "items": {"type": "object", "additionalProperties": {}}}},
    )
    def get(self, request: Request) -> Response:
        qs = self.get_queryset()
        if request.query_params.get("year"):
            qs = qs.filter(year=year_or_400(request.query_params["year"]))
        return Response([report_dict(r) for r in qs[:500]])

    @extend_schema(request=WorkReportIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = WorkReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        unit = next((u for u in work_reports.reporting_units(request.user) if u.pk == v["unit"]), None)
        if unit is None:
            raise serializers.ValidationError({"unit": [_("Choose a member department you work in.")]})
        with service_errors_as_400():
            actor: Any = request.user
            report = work_reports.work_report_submit(
                actor=actor, unit=unit, year=v["year"], text=v["text"], attachment=v.get("attachment")
            )
        return Response(report_dict(report), status=status.HTTP_201_CREATED)


class WorkReportDetailView(_Scoped):
    """One work report; PATCH corrects it (`text`, `attachment`) while it awaits review."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return work_reports.work_reports_visible(self.request.user)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        return Response(report_dict(scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def patch(self, request: Request, pk: int) -> Response:
        report = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        body = request.data if hasattr(request.data, "get") else {}
        with service_errors_as_400():
            actor: Any = request.user
            report = work_reports.work_report_edit(
                actor=actor,
                report=report,
                text=str(body.get("text", "")),
                attachment=request.FILES.get("attachment"),
            )
        return Response(report_dict(work_reports.work_report_get(request.user, report.pk)))


class WorkReportActionView(_Scoped):
    """POST review (`note`) | score (`score`, 0-100) on a work report (the city's administrators)."""

    action_name = ""

    def get_queryset(self) -> Any:
        return work_reports.work_reports_visible(self.request.user)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        report = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        body = request.data if hasattr(request.data, "get") else {}
        actor: Any = request.user
        with service_errors_as_400():
            if self.action_name == "review":
                work_reports.work_report_review(actor=actor, report=report, note=str(body.get("note", "")))
            else:
                try:
                    score = Decimal(str(body.get("score", "")))
                except InvalidOperation as exc:
                    raise serializers.ValidationError(
                        {"score": [_("A work report is scored from 0 to 100.")]}
                    ) from exc
                work_reports.work_report_score(actor=actor, report=report, score=score)
        return Response(report_dict(work_reports.work_report_get(request.user, report.pk)))


class DepartmentScorecardView(_Scoped):
    """A member department's scorecard in a round (the published snapshot once published), with the
    cases behind each line."""

    def get_queryset(self) -> Any:
        return work_reports.department_scorecards_visible(self.request.user)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        card = scoping.get_in_scope_or_404(self.get_queryset(), pk=pk)
        mine = department_card_data(card)
        ids = sorted(
            {
                i
                for part in [*mine["lines"], *mine["vetoes"]]
                for key, rows in part["evidence"].items()
                if isinstance(rows, list) and key != "orders"
                for i in rows
            }
        )
        cases = selectors.evidence_cases(request.user, ids)
        return Response(
            {
                "round": {"id": card.round_id, "name": card.round.name, "status": card.round.status},
                "scorecard": mine,
                "cases": [
                    {"id": c.pk, "number": c.number, "title": c.title, "status": c.status}
                    for c in cases[:2000]
                ],
            }
        )


def department_card_data(card: Any) -> dict[str, Any]:
    """The card as published (the round's snapshot) once published, else the live rows."""
    rnd = card.round
    if rnd.is_published and rnd.snapshot:
        found = next((c for c in rnd.snapshot.get("departments", []) if c["id"] == card.pk), None)
        if found is not None:
            return dict(found)
    return work_reports.card_dict(card)
