"""The transitions by name, from plain values (ids, strings): what the API and the pages both call.

Interfaces validate the shape of the input (a serializer, a form), then `perform` resolves ids
through selectors (so an id from another city is refused like a missing one) and calls the one
service of that transition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from teams.models import User

from . import selectors, services
from .models import Case

Handler = Callable[[User, Case, dict[str, Any], int | None], Case]


def _unit(actor: User, data: dict[str, Any], required: bool = True):  # noqa: ANN202
    pk = data.get("responsible_unit")
    unit = selectors.unit_get(actor, pk) if pk not in (None, "") else None
    if unit is None and required:
        raise ValidationError({"responsible_unit": [_("Choose an active unit of this city.")]})
    return unit


def _person(actor: User, data: dict[str, Any]) -> User | None:
    pk = data.get("responsible_person")
    if pk in (None, ""):
        return None
    person = selectors.person_get(actor, pk)
    if person is None:
        raise ValidationError({"responsible_person": [_("No such person in this city.")]})
    return person


def _dispatch(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
    assists = []
    for item in data.get("assists") or []:
        unit = selectors.unit_get(actor, item.get("unit"))
        if unit is None:
            raise ValidationError({"assists": [_("Choose an active unit of this city.")]})
        assists.append(services.AssistSpec(unit, item.get("task", ""), item.get("due_at")))
    return services.case_dispatch(
        actor=actor,
        case=case,
        responsible_unit=_unit(actor, data),
        responsible_person=_person(actor, data),
        due_at=data.get("due_at"),
        assists=assists,
        note=data.get("note", ""),
        version=version,
        confirm_late_parts=bool(data.get("confirm_late_parts")),
    )


def _reassign(service: Callable[..., Case]) -> Handler:
    def run(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
        return service(
            actor=actor,
            case=case,
            responsible_unit=_unit(actor, data),
            responsible_person=_person(actor, data),
            reason=data.get("reason", ""),
            version=version,
        )

    return run


def _with(service: Callable[..., Case], *names: str) -> Handler:
    def run(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
        return service(actor=actor, case=case, version=version, **{n: data.get(n, "") for n in names})

    return run


def _extension(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
    return services.case_request_extension(
        actor=actor,
        case=case,
        amount=data.get("amount"),
        unit=data.get("unit", ""),
        reason=data.get("reason", ""),
        version=version,
    )


def _confirm(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
    return services.case_confirm(
        actor=actor,
        case=case,
        responsible_person=_person(actor, data),
        due_at=data.get("due_at"),
        note=data.get("note", ""),
        version=version,
    )


def _merge(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
    target = selectors.merge_target_get(actor, data.get("into"))
    if target is None:
        raise ValidationError({"into": [_("No such case in your scope.")]})
    return services.case_merge(
        actor=actor, case=case, into=target, note=data.get("note", ""), version=version
    )


def _complete_part(actor: User, case: Case, data: dict[str, Any], version: int | None) -> Case:
    services.part_complete(actor=actor, case=case, note=data.get("note", ""))
    return case


HANDLERS: dict[str, Handler] = {
    "dispatch": _dispatch,
    "accept": _with(services.case_accept, "note"),
    "return": _with(services.case_return, "reason"),
    "dispute": _with(services.case_dispute, "reason"),
    "decide": _reassign(services.case_decide),
    "transfer": _reassign(services.case_transfer),
    "confirm": _confirm,
    "escalate": _with(services.case_escalate, "reason"),
    "request_extension": _extension,
    "approve_extension": _with(services.case_approve_extension, "note"),
    "deny_extension": _with(services.case_deny_extension, "reason"),
    "pause": _with(services.case_pause, "reason"),
    "resume": _with(services.case_resume, "note"),
    "complete_part": _complete_part,
    "submit": _with(services.case_submit, "resolution"),
    "reject": _with(services.case_reject, "reason"),
    "close": _with(services.case_close, "satisfaction", "callback_note"),
    "reopen": _with(services.case_reopen, "reason"),
    "merge": _merge,
}


def perform(
    *, actor: User, case: Case, action: str, data: dict[str, Any], version: int | None = None
) -> Case:
    """Fire one transition of the table with already shape-checked input."""
    if action not in HANDLERS:
        raise ValidationError({"action": [_("Unknown action.")]})
    return HANDLERS[action](actor, case, data, version)
