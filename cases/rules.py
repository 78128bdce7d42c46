"""The workflow as one table: each transition, the statuses it leaves, where it goes, who may fire it.

Roles on one case (worked out from the user's grants and memberships, no query per case):

- ``manager``: holds ``manage_cases`` on the grid node of the case's tier or above it (the platform
  that dispatches, decides disputes, approves extensions and verifies);
- ``unit``: works in the responsible unit (主办);
- ``assist``: works in an assisting unit (协办) whose part is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Level
from teams.units import unit_ids_of

from .models import TIER_ABOVE, TIER_LEVEL, Case, PartStatus, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

MANAGER, UNIT, ASSIST = "manager", "unit", "assist"
MANAGE_CASES = "manage_cases"
_LEVEL_ATTR = {
    Level.CITY: "city_id",
    Level.TOWNSHIP: "township_id",
    Level.CELL: "cell_id",
    Level.PLOT: "plot_id",
}

S = Status
HANDLED = (S.DISPATCHED, S.IN_HAND)
UNFINISHED = (S.REGISTERED, S.DISPATCHED, S.IN_HAND, S.PAUSED, S.DISPUTED)


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (the action changes something else)
    who: frozenset[str]
    help: Promise


def _t(
    name: str, label: Promise, sources: tuple[str, ...], target: str | None, who: set[str], help_: Promise
) -> Transition:
    return Transition(name, label, sources, target, frozenset(who), help_)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t(
            "dispatch",
            _("Dispatch"),
            (S.REGISTERED,),
            S.DISPATCHED,
            {MANAGER},
            _("Send to a responsible unit and person, with a deadline; optionally with assisting units."),
        ),
        _t(
            "accept",
            _("Accept"),
            (S.DISPATCHED,),
            S.IN_HAND,
            {UNIT},
            _("The responsible unit takes the case on."),
        ),
        _t(
            "return",
            _("Return"),
            HANDLED,
            S.REGISTERED,
            {UNIT},
            _("Send the case back to the dispatcher (for example: wrong facts), with a reason."),
        ),
        _t(
            "dispute",
            _("Dispute responsibility"),
            (S.DISPATCHED,),
            S.DISPUTED,
            {UNIT},
            _("Say with a reason that the case is not this unit's responsibility; the tier above decides."),
        ),
        _t(
            "decide",
            _("Decide the dispute"),
            (S.DISPUTED,),
            S.DISPATCHED,
            {MANAGER},
            _("Confirm the unit or name another; the time the dispute took stays on the case."),
        ),
        _t("transfer", _("Transfer"), HANDLED, S.DISPATCHED, {MANAGER}, _("Hand the case to another unit.")),
        _t(
            "confirm",
            _("Confirm responsibility and deadline"),
            HANDLED,
            None,
            {MANAGER},
            _("Confirm the responsible person and set a new deadline (as at the monthly dispute review)."),
        ),
        _t(
            "escalate",
            _("Escalate"),
            (S.REGISTERED, *HANDLED),
            S.REGISTERED,
            {MANAGER, UNIT},
            _("Report the case to the tier above."),
        ),
        _t(
            "request_extension",
            _("Request an extension"),
            (S.IN_HAND,),
            None,
            {UNIT},
            _("Ask the dispatcher for more time, with a reason."),
        ),
        _t(
            "approve_extension",
            _("Approve the extension"),
            (S.IN_HAND,),
            None,
            {MANAGER},
            _("Grant the time asked for; the deadline moves."),
        ),
        _t(
            "deny_extension",
            _("Deny the extension"),
            (S.IN_HAND,),
            None,
            {MANAGER},
            _("Refuse the time asked for."),
        ),
        _t(
            "pause",
            _("Pause"),
            (S.IN_HAND,),
            S.PAUSED,
            {UNIT},
            _("Stop the clock while waiting on the residents, with a reason."),
        ),
        _t("resume", _("Resume"), (S.PAUSED,), S.IN_HAND, {UNIT, MANAGER}, _("Start the clock again.")),
        _t(
            "complete_part",
            _("Report our part done"),
            (S.DISPATCHED, S.IN_HAND, S.PAUSED),
            None,
            {ASSIST},
            _("An assisting unit reports its part of a joint case done."),
        ),
        _t(
            "submit",
            _("Submit resolution"),
            (S.IN_HAND,),
            S.RESOLVED,
            {UNIT},
            _("Report how the case was resolved, for verification."),
        ),
        _t(
            "reject",
            _("Send back to handling"),
            (S.RESOLVED,),
            S.IN_HAND,
            {MANAGER},
            _("Verification failed: the unit must go on, with a reason."),
        ),
        _t(
            "close",
            _("Verify and close"),
            (S.RESOLVED,),
            S.CLOSED,
            {MANAGER},
            _("After calling the residents back (回访), record their satisfaction and close."),
        ),
        _t(
            "reopen",
            _("Reopen"),
            (S.CLOSED,),
            S.IN_HAND,
            {MANAGER},
            _("Put a closed case back into handling."),
        ),
        _t(
            "merge",
            _("Merge into another case"),
            UNFINISHED,
            S.MERGED,
            {MANAGER},
            _("Mark the case a duplicate of another open case."),
        ),
    )
}


def _tier_level(case: Case) -> int:
    return TIER_LEVEL[case.tier]


def is_manager(user: User | AnonymousUser, case: Case) -> bool:
    """Holds manage_cases on the node of the case's tier (or one above it), from the cached grants."""
    if scoping.is_unrestricted(user):
        return True
    if getattr(user, "tenant_id", None) != case.tenant_id:
        return False
    tier_level = _tier_level(case)
    for grant in scoping.grants(user, MANAGE_CASES):
        if (
            grant.level <= tier_level
            and getattr(case, scoping.LEVEL_COLUMN[Level(grant.level)]) == grant.node_id
        ):
            return True
    return False


def roles(
    user: User | AnonymousUser, case: Case, open_part_unit_ids: frozenset[int] = frozenset()
) -> frozenset[str]:
    """The user's roles on the case. `open_part_unit_ids`: the units whose assisting part is open."""
    found: set[str] = set()
    if is_manager(user, case):
        found.add(MANAGER)
    unit_ids = unit_ids_of(user) if getattr(user, "tenant_id", None) == case.tenant_id else frozenset()
    if case.responsible_unit_id and case.responsible_unit_id in unit_ids:
        found.add(UNIT)
    if unit_ids & open_part_unit_ids:
        found.add(ASSIST)
    return frozenset(found)


def open_part_units(case: Case) -> frozenset[int]:
    """Units with an open assisting part (uses prefetched parts when present)."""
    return frozenset(p.unit_id for p in case.parts.all() if p.status == PartStatus.OPEN)


def refusal(transition: Transition, case: Case, user_roles: frozenset[str]) -> str | None:
    """Why the transition cannot fire now (state or guard), or None."""
    if case.status not in transition.sources:
        return str(
            _("“%(action)s” is not possible while the case is %(status)s.")
            % {"action": transition.label, "status": case.get_status_display()}
        )
    if transition.name == "escalate" and case.tier not in TIER_ABOVE:
        return str(_("The case is already at the city tier."))
    if transition.name in ("approve_extension", "deny_extension") and not case.extension_requested_minutes:
        return str(_("No extension has been requested."))
    if transition.name == "request_extension" and case.extension_requested_minutes:
        return str(_("An extension request is already waiting for a decision."))
    if transition.name in ("submit", "close") and open_part_units(case):
        return str(_("Assisting units have not all reported their parts done."))
    return None


def available(user: User | AnonymousUser, case: Case) -> list[Transition]:
    """The transitions this user may fire on this case now (parts prefetched: no query)."""
    user_roles = roles(user, case, open_part_units(case))
    return [t for t in TRANSITIONS.values() if t.who & user_roles and refusal(t, case, user_roles) is None]
