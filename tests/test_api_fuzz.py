"""Schemathesis over every operation of /api/schema/, signed in as a township user on the small cast.

Every answer must be below 500 and match the documented schema (status, body). `make test` runs a
bounded number of examples per operation; `make fuzz` (FUZZ_EXAMPLES) runs many more.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cases import services as case_services
from grids.registry import services as registry_services
from grids.registry import synthetic
from teams.models import UnitKind
from teams.services import membership_add, unit_create

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance]


def _schema() -> Any:
    """The document /api/schema/ serves (the same generator, public, without a request)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(document)


SCHEMA = _schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, kept on the test's transaction (as Django's test client does:
    a real request would close the connection when it finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(cast):
    """One row of each kind in township_a, and a token for township_a_staff."""
    actor = cast.city_admin
    household = registry_services.household_create(
        actor=actor, plot=cast.plot_a1, number="F1", address="九三村1号"
    )
    resident = registry_services.resident_create(
        actor=actor, household=household, name="陈某某", id_number=synthetic.resident_id(7)
    )
    building = registry_services.building_create(actor=actor, plot=cast.plot_a1, code="B1", name="九三村1幢")
    dwelling = registry_services.dwelling_create(actor=actor, building=building, number="101")
    police = unit_create(
        actor=None,
        tenant_id=cast.ruian.pk,
        kind=UnitKind.DEPARTMENT,
        code="dept-police",
        name="市公安局",
    )
    membership_add(actor=None, unit=police, user=cast.department_user)
    case = case_services.case_record(
        actor=cast.village_member, node=cast.plot_a1, kind="dispute", source="visit", title="宅基地边界纠纷"
    )
    token = Token.objects.create(user=cast.township_a_staff)
    ids = {
        "/api/v1/grids/": cast.plot_a1.pk,
        "/api/v1/cases/": case.pk,
        "/api/v1/units/": police.pk,
        "/api/v1/registry/households/": household.pk,
        "/api/v1/registry/residents/": resident.pk,
        "/api/v1/registry/buildings/": building.pk,
        "/api/v1/registry/dwellings/": dwelling.pk,
    }
    return {"headers": {"Authorization": f"Token {token.key}"}, "ids": ids}


def _known_id(operation: Any, ids: dict[str, int]) -> dict[str, int] | None:
    for prefix, pk in ids.items():
        if operation.path.startswith(prefix) and "{id}" in operation.path:
            return {"id": pk}
    return None


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_operation_answers_5xx_or_off_schema(world, wsgi_app, operation):
    app = wsgi_app
    # Valid and invalid requests (wrong types, missing fields, values outside the enums), on random
    # ids (404) and on a row the user may see.
    strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    known = _known_id(operation, world["ids"])
    if known:
        strategies += [
            operation.as_strategy(mode, path_parameters=known)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    strategy = st.one_of(strategies)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        cache.clear()  # the API's rate limits count in the cache; they have tests of their own
        case.call_and_validate(app=app, headers=world["headers"], checks=CHECKS)

    run()
