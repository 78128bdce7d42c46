"""/api/v1/registry/…: thin views over the registry's selectors and services.

Reads use the `view_gridnode` scope, writes the `manage_registry` scope, so an id outside either is a
404 like a missing one. Numbers go in (write-only fields) and come out masked; the one way to read them
in clear is `POST …/residents/{id}/reveal/` with a reason. Every response is `Cache-Control: no-store`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from grids.models import GridNode
from ruian_grid.scoped import ScopedAPIMixin, ScopedModelViewSet, ScopedReadOnlyViewSet
from ruian_grid.serializers import LeanListSerializer

from . import exports, filters, importing, selectors, services
from .models import (
    AgeBand,
    Building,
    Dwelling,
    Establishment,
    Household,
    IdType,
    ImportJob,
    ImportKind,
    PersonalDataAccess,
    PopulationType,
    Relation,
    Resident,
    Tag,
    tags_mask,
    tags_of,
)

XLSX = importing.XLSX_CONTENT_TYPE
SENSITIVE = ("id_number", "phone", "contact_phone", "reason")


def _django_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class _NoStore:
    """Registry responses carry names and (masked) numbers: never cached."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        add_never_cache_headers(response)
        return response


def _perm(request: Request) -> str:
    return selectors.VIEW if request.method in SAFE_METHODS else selectors.MANAGE


class _Writes:
    """create/update through a service; DELETE is not offered (rows are deregistered)."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(actor=self.request.user, **kwargs)  # type: ignore[attr-defined]
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc

    def _respond(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)  # type: ignore[attr-defined]
        return Response(self.get_serializer(fresh).data, status=code)  # type: ignore[attr-defined]

    def _input(self, serializer_class: type[serializers.Serializer], **context: Any) -> dict[str, Any]:
        s = serializer_class(data=self.request.data, context={"request": self.request, **context})  # type: ignore[attr-defined]
        s.is_valid(raise_exception=True)
        return dict(s.validated_data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


def _plot_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=GridNode.objects.none(), **kwargs)


class _PlotScoped(serializers.Serializer):
    """A plot chosen by id must be one the requesting user manages (else: "no such plot")."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        # `"data" in kwargs` first: reading self.fields builds every field, which a list never needs.
        if request is not None and "data" in kwargs and "plot" in self.fields:
            self.fields["plot"].queryset = selectors.plots_for(request.user, selectors.MANAGE)


class MoveSerializer(_PlotScoped):
    plot = _plot_field()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- households -----------------------------------------------------------------------------------


class TagsField(serializers.MultipleChoiceField):
    def __init__(self, **kwargs: Any):
        super().__init__(choices=Tag.choices, **kwargs)

    def to_representation(self, value: int) -> list[int]:
        return [int(t) for t in tags_of(value)]

    def to_internal_value(self, data: Any) -> int:
        return tags_mask([int(v) for v in super().to_internal_value(data)])


class HouseholdSerializer(_PlotScoped, serializers.ModelSerializer):
    plot = _plot_field()
    plot_name = serializers.CharField(source="plot.name", read_only=True)
    tags = TagsField(required=False)
    resident_count = serializers.IntegerField(read_only=True)
    dwelling = serializers.PrimaryKeyRelatedField(
        queryset=Dwelling.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Household
        fields = [
            "id", "number", "address", "plot", "plot_name", "cell", "township", "dwelling", "tags", "status",
            "deregistered_reason", "resident_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["cell", "township", "status", "deregistered_reason", "created_at", "updated_at"]
        list_serializer_class = LeanListSerializer

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "data" in kwargs:
            self.fields["dwelling"].queryset = selectors.dwellings_for(request.user, selectors.MANAGE)
        if (
            self.instance is not None
            and not isinstance(self.instance, list | tuple)
            and "plot" in self.fields
        ):
            self.fields["plot"].read_only = True
            self.fields["number"].read_only = True


@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class HouseholdViewSet(_NoStore, _Writes, ScopedModelViewSet):
    serializer_class = HouseholdSerializer
    filterset_class = filters.HouseholdFilter

    def get_queryset(self) -> Any:
        return selectors.households_for(self.request.user, _perm(self.request)).order_by("number")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._input(HouseholdSerializer)
        household = self._call(services.household_create, **data)
        return self._respond(household, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        household = self.get_object()
        s = HouseholdSerializer(household, data=request.data, partial=True, context={"request": request})
        s.is_valid(raise_exception=True)
        changes = {k: v for k, v in s.validated_data.items() if k in ("address", "dwelling", "tags")}
        self._call(services.household_update, household=household, **changes)
        return self._respond(household)

    update = partial_update

    @extend_schema(request=MoveSerializer, responses=HouseholdSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        household = self.get_object()
        data = self._input(MoveSerializer)
        self._call(services.household_move, household=household, **data)
        return self._respond(household)

    @extend_schema(request=ReasonSerializer, responses=HouseholdSerializer)
    @action(detail=True, methods=["post"])
    def deregister(self, request: Request, pk: str | None = None) -> Response:
        household = self.get_object()
        data = self._input(ReasonSerializer)
        self._call(services.household_deregister, household=household, **data)
        return self._respond(household)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        return _export("households", self.filter_queryset(self.get_queryset()))


def _export(kind: str, qs: Any) -> HttpResponse:
    response = HttpResponse(exports.export_xlsx(kind, qs), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{exports.export_filename(kind)}"'
    add_never_cache_headers(response)
    return response


# --- residents ------------------------------------------------------------------------------------


class ResidentSerializer(serializers.ModelSerializer):
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.none())
    household_number = serializers.CharField(source="household.number", read_only=True)
    plot_name = serializers.CharField(source="plot.name", read_only=True)
    id_number = serializers.CharField(write_only=True, max_length=30)
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    age_band = serializers.ChoiceField(choices=AgeBand.choices, read_only=True)
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID)
    population_type = serializers.ChoiceField(
        choices=PopulationType.choices, default=PopulationType.REGISTERED
    )
    relation = serializers.ChoiceField(choices=Relation.choices, default=Relation.OTHER)

    class Meta:
        model = Resident
        fields = [
            "id", "household", "household_number", "plot", "plot_name", "name", "id_type", "id_number",
            "id_number_masked", "sex", "birth_year", "age_band", "phone", "phone_masked", "population_type",
            "relation", "status", "deregistered_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "plot", "id_number_masked", "sex", "birth_year", "phone_masked", "status", "deregistered_reason",
            "created_at", "updated_at",
        ]  # fmt: skip
        list_serializer_class = LeanListSerializer

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "data" in kwargs:
            self.fields["household"].queryset = selectors.households_for(request.user, selectors.MANAGE)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["household"].read_only = True
            self.fields["id_number"].required = False


class ResidentMoveSerializer(serializers.Serializer):
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.none())
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "data" in kwargs:
            self.fields["household"].queryset = selectors.households_for(request.user, selectors.MANAGE)


class RevealSerializer(serializers.Serializer):
    id_number = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)


class SearchSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=60)


@method_decorator(sensitive_post_parameters(*SENSITIVE, "q"), name="dispatch")
class ResidentViewSet(_NoStore, _Writes, ScopedModelViewSet):
    serializer_class = ResidentSerializer
    filterset_class = filters.ResidentFilter

    def get_queryset(self) -> Any:
        perm = selectors.VIEW if self.action in ("reveal", "search") else _perm(self.request)
        return selectors.residents_for(self.request.user, perm).order_by("household_id", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._input(ResidentSerializer)
        resident = self._call(services.resident_create, **data)
        return self._respond(resident, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        resident = self.get_object()
        s = ResidentSerializer(resident, data=request.data, partial=True, context={"request": request})
        s.is_valid(raise_exception=True)
        allowed = ("name", "phone", "population_type", "relation", "id_type", "id_number")
        self._call(
            services.resident_update,
            resident=resident,
            **{k: v for k, v in s.validated_data.items() if k in allowed},
        )
        return self._respond(resident)

    update = partial_update

    @extend_schema(request=ResidentMoveSerializer, responses=ResidentSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        resident = self.get_object()
        data = self._input(ResidentMoveSerializer)
        self._call(services.resident_move, resident=resident, **data)
        return self._respond(resident)

    @extend_schema(request=ReasonSerializer, responses=ResidentSerializer)
    @action(detail=True, methods=["post"])
    def deregister(self, request: Request, pk: str | None = None) -> Response:
        resident = self.get_object()
        self._call(services.resident_deregister, resident=resident, **self._input(ReasonSerializer))
        return self._respond(resident)

    @extend_schema(request=ReasonSerializer, responses=RevealSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """One resident's numbers in clear; needs `view_personal_data` and a reason; logged."""
        resident = self.get_object()
        revealed = self._call(
            services.personal_data_reveal, resident=resident, **self._input(ReasonSerializer)
        )
        return Response({"id_number": revealed.id_number, "phone": revealed.phone})

    @extend_schema(request=SearchSerializer, responses=ResidentSerializer(many=True))
    @action(detail=False, methods=["post"])
    def search(self, request: Request) -> Response:
        """Search by name, address, phone or ID number (numbers match a keyed hash). POST, so numbers
        stay out of URLs and logs."""
        data = self._input(SearchSerializer)
        qs = selectors.search_residents(request.user, data["q"]).order_by("household_id", "id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        return _export("residents", self.filter_queryset(self.get_queryset()))


# --- buildings, dwellings, establishments ---------------------------------------------------------


class BuildingSerializer(_PlotScoped, serializers.ModelSerializer):
    plot = _plot_field()
    plot_name = serializers.CharField(source="plot.name", read_only=True)

    class Meta:
        model = Building
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "floors",
            "plot",
            "plot_name",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["plot"].read_only = True
            self.fields["code"].read_only = True


@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class BuildingViewSet(_NoStore, _Writes, ScopedModelViewSet):
    serializer_class = BuildingSerializer
    filterset_class = filters.BuildingFilter

    def get_queryset(self) -> Any:
        return selectors.buildings_for(self.request.user, _perm(self.request)).order_by("code")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        building = self._call(services.building_create, **self._input(BuildingSerializer))
        return self._respond(building, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        building = self.get_object()
        s = BuildingSerializer(building, data=request.data, partial=True, context={"request": request})
        s.is_valid(raise_exception=True)
        changes = {k: v for k, v in s.validated_data.items() if k in ("name", "kind", "floors")}
        self._call(services.building_update, building=building, **changes)
        return self._respond(building)

    update = partial_update

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        return _export("buildings", self.filter_queryset(self.get_queryset()))


class DwellingSerializer(serializers.ModelSerializer):
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.none())
    building_code = serializers.CharField(source="building.code", read_only=True)

    class Meta:
        model = Dwelling
        fields = ["id", "building", "building_code", "number", "use", "plot", "status", "created_at"]
        read_only_fields = ["plot", "status", "created_at"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "data" in kwargs:
            self.fields["building"].queryset = selectors.buildings_for(request.user, selectors.MANAGE)


class DwellingViewSet(
    _NoStore, _Writes, ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    serializer_class = DwellingSerializer
    filterset_class = filters.DwellingFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.dwellings_for(self.request.user, _perm(self.request)).order_by(
            "building_id", "number"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dwelling = self._call(services.dwelling_create, **self._input(DwellingSerializer))
        return self._respond(dwelling, status.HTTP_201_CREATED)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        return _export("dwellings", self.filter_queryset(self.get_queryset()))


class EstablishmentSerializer(_PlotScoped, serializers.ModelSerializer):
    plot = _plot_field()
    plot_name = serializers.CharField(source="plot.name", read_only=True)
    contact_phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    building = serializers.PrimaryKeyRelatedField(
        queryset=Building.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Establishment
        fields = [
            "id", "credit_code", "name", "kind", "address", "plot", "plot_name", "building", "staff_count",
            "contact_name", "contact_phone", "contact_phone_masked", "status", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["contact_phone_masked", "status", "created_at", "updated_at"]
        extra_kwargs = {"credit_code": {"validators": []}}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "data" in kwargs:
            self.fields["building"].queryset = selectors.buildings_for(request.user, selectors.MANAGE)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("plot", "credit_code", "building"):
                self.fields[name].read_only = True


@method_decorator(sensitive_post_parameters(*SENSITIVE), name="dispatch")
class EstablishmentViewSet(_NoStore, _Writes, ScopedModelViewSet):
    serializer_class = EstablishmentSerializer
    filterset_class = filters.EstablishmentFilter

    def get_queryset(self) -> Any:
        return selectors.establishments_for(self.request.user, _perm(self.request)).order_by("name")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        est = self._call(services.establishment_create, **self._input(EstablishmentSerializer))
        return self._respond(est, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        est = self.get_object()
        s = EstablishmentSerializer(est, data=request.data, partial=True, context={"request": request})
        s.is_valid(raise_exception=True)
        allowed = ("name", "kind", "address", "staff_count", "contact_name", "contact_phone")
        self._call(
            services.establishment_update,
            establishment=est,
            **{k: v for k, v in s.validated_data.items() if k in allowed},
        )
        return self._respond(est)

    update = partial_update

    @extend_schema(request=ReasonSerializer, responses=EstablishmentSerializer)
    @action(detail=True, methods=["post"])
    def deregister(self, request: Request, pk: str | None = None) -> Response:
        est = self.get_object()
        self._call(services.establishment_deregister, establishment=est, **self._input(ReasonSerializer))
        return self._respond(est)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        return _export("establishments", self.filter_queryset(self.get_queryset()))


# --- access log and imports -----------------------------------------------------------------------


class AccessSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.__str__", read_only=True)
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    plot_name = serializers.CharField(source="plot.name", read_only=True)

    class Meta:
        model = PersonalDataAccess
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_name",
            "resident",
            "resident_name",
            "plot",
            "plot_name",
            "fields",
            "reason",
        ]


class AccessLogViewSet(_NoStore, ScopedReadOnlyViewSet):
    """The reveal log (read-only here and everywhere: the database refuses edits)."""

    serializer_class = AccessSerializer
    filterset_class = filters.AccessLogFilter

    def get_queryset(self) -> Any:
        return selectors.access_log_for(self.request.user)


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    finished = serializers.BooleanField(read_only=True)
    has_refused_file = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "original_name", "status", "total_rows", "processed_rows", "percent", "finished", "added",
            "updated", "unchanged", "refused", "has_refused_file", "message", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_refused_file(self, job: ImportJob) -> bool:
        return bool(job.refused_file)


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()


class TemplateQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)


class ImportJobViewSet(_NoStore, ScopedAPIMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Upload a workbook (multipart: kind, file); poll the job; download its refused rows."""

    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return selectors.import_jobs_for(self.request.user)

    @extend_schema(request=ImportUploadSerializer, responses=ImportJobSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        s = ImportUploadSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            job = services.import_start(
                actor=request.user, kind=s.validated_data["kind"], upload=s.validated_data["file"]
            )
        except DjangoValidationError as exc:
            raise ValidationError({"file": exc.messages}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=True, methods=["get"])
    def refused(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        return refused_file_response(job)

    @extend_schema(parameters=[TemplateQuery], responses={(200, XLSX): OpenApiResponse(description=".xlsx")})
    @action(detail=False, methods=["get"])
    def template(self, request: Request) -> HttpResponse:
        q = TemplateQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        return template_response(request.user, q.validated_data["kind"])


def refused_file_response(job: ImportJob) -> FileResponse:
    if not job.refused_file or not default_storage.exists(job.refused_file):
        raise NotFound
    response = FileResponse(
        default_storage.open(job.refused_file, "rb"),
        as_attachment=True,
        filename=f"refused-{job.pk}.xlsx",
        content_type=XLSX,
    )
    add_never_cache_headers(response)
    return response


def template_response(user: Any, kind: str) -> HttpResponse:
    plots = selectors.plots_for(user, selectors.MANAGE)
    response = HttpResponse(importing.template_workbook(kind, plots), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="template-{kind}.xlsx"'
    return response
