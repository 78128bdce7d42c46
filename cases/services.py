"""Every change to a case: one function per use case, one transaction, one timeline entry each.

Transitions follow the table in `cases.rules`. Two people acting on one case at once: each change
is a conditional UPDATE on the case's `version` column, so exactly one wins and the other gets
`CaseConflict` (a 409 in the API) with nothing written.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import geo, scoping
from grids.models import GridNode, Level, Tenant
from grids.registry import crypto
from grids.registry.models import Resident
from ruian_grid import images
from ruian_grid.outbox import services as outbox
from teams.models import Membership, Unit, Visit, VisitOutcome

from . import calendar, policy, rules
from .models import (
    DESCRIPTION_MAX,
    KIND_SUBKINDS,
    NOTE_MAX,
    STATUS_STEP,
    TIER_ABOVE,
    TIMED_STATUSES,
    AlertLevel,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CasePart,
    DeadlineWatch,
    LimitUnit,
    PartStatus,
    Reminded,
    Satisfaction,
    Severity,
    Source,
    Status,
    Step,
    Tier,
)

if TYPE_CHECKING:
    from teams.models import User

log = logging.getLogger(__name__)

RECORD_CASE = "record_case"
LEVEL_TIER = {
    Level.CITY: Tier.CITY,
    Level.TOWNSHIP: Tier.TOWNSHIP,
    Level.CELL: Tier.CELL,
    Level.PLOT: Tier.CELL,
}
_PHONE = re.compile(r"^[0-9+\- ]{3,20}$")


# Set while seeding demo data: the timeline is written as usual, but nobody is notified.
_QUIET: ContextVar[bool] = ContextVar("cases_notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Within this block case events notify nobody (no task is queued): for seeding demo data."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


class CaseConflict(Exception):
    """The case changed under the caller, or the action is not possible in its current state."""

    def __init__(self, message: str, *, version: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.version = version


# --- helpers --------------------------------------------------------------------------------------


def _calendar_for(case: Case, now: dt.datetime) -> calendar.WorkCalendar:
    tz_name = Tenant.objects.filter(pk=case.tenant_id).values_list("time_zone", flat=True).first()
    return calendar.load(case.tenant_id, tz_name or settings.TIME_ZONE, now)


def _start_deadline(case: Case, now: dt.datetime, changed: dict[str, Any]) -> None:
    """A new deadline for the case's current step, from the policy and the working calendar."""
    step = STATUS_STEP.get(case.status)
    if not step or case.status not in TIMED_STATUSES:
        _clear_deadline(case, changed)
        return
    cal = _calendar_for(case, now)
    limit = policy.limit_for(case, step, cal.day_minutes)
    deadline = policy.deadline_from(cal, now, limit)
    _set(
        case,
        changed,
        step_started_at=now,
        due_at=deadline.due_at,
        yellow_at=deadline.yellow_at,
        red_at=deadline.red_at,
        deadline_seq=case.deadline_seq + 1,
        alert_level=AlertLevel.NONE,
        reminded=Reminded.NONE,
    )


def _explicit_deadline(case: Case, now: dt.datetime, due_at: dt.datetime, changed: dict[str, Any]) -> None:
    """A deadline the dispatcher set by hand; warnings at the default 80 % / 100 % of the span."""
    span = due_at - now
    _set(
        case,
        changed,
        step_started_at=now,
        due_at=due_at,
        yellow_at=now + span * 0.8,
        red_at=due_at,
        deadline_seq=case.deadline_seq + 1,
        alert_level=AlertLevel.NONE,
        reminded=Reminded.NONE,
    )


def _clear_deadline(case: Case, changed: dict[str, Any]) -> None:
    _set(case, changed, due_at=None, yellow_at=None, red_at=None, step_started_at=None)


# The moment the scan must look again, by the level the deadline has reached.
_NEXT_BY_LEVEL = {
    AlertLevel.NONE: "yellow_at",
    AlertLevel.YELLOW: "due_at",
    AlertLevel.RED: "yellow_card_at",
    AlertLevel.YELLOW_CARD: "red_card_at",
}
_ARMING_FIELDS = frozenset({"due_at", "yellow_at", "status", "alert_level", "reminded"})
# The next reminder of the deadline, by the reminders already sent.
_NEXT_BY_REMINDED = {Reminded.NONE: "day_before_at", Reminded.DAY_BEFORE: "on_day_at"}


def _earliest(*moments: dt.datetime | None) -> dt.datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _arm(case: Case, now: dt.datetime, changed: dict[str, Any]) -> None:
    """The card thresholds (working time past the deadline) and the scan's next look at the case."""
    if case.status not in TIMED_STATUSES or case.due_at is None:
        _set(
            case, changed, yellow_card_at=None, red_card_at=None, day_before_at=None, on_day_at=None,
            next_check_at=None,
        )  # fmt: skip
        return
    cal = _calendar_for(case, now)
    rules_ = policy.supervision_policy(case.tenant_id)
    day_before, on_day = cal.reminder_moments(case.due_at)
    _set(
        case,
        changed,
        yellow_card_at=cal.add(case.due_at, rules_.yellow_after_hours * 60),
        red_card_at=cal.add(case.due_at, rules_.red_after_hours * 60),
        day_before_at=day_before,
        on_day_at=on_day,
    )
    attr = _NEXT_BY_LEVEL.get(AlertLevel(case.alert_level))
    reminder = _NEXT_BY_REMINDED.get(Reminded(case.reminded))
    _set(
        case,
        changed,
        next_check_at=_earliest(
            getattr(case, attr) if attr else None, getattr(case, reminder) if reminder else None
        ),
    )


def _arm_part(part: CasePart, start: dt.datetime, cal: calendar.WorkCalendar, tenant_id: int) -> None:
    """An assisting part's reminder (at 80 % of its span) and card thresholds, from its deadline."""
    if part.due_at is None:
        return
    rules_ = policy.supervision_policy(tenant_id)
    part.remind_at = start + (part.due_at - start) * 0.8
    part.yellow_card_at = cal.add(part.due_at, rules_.yellow_after_hours * 60)
    part.red_card_at = cal.add(part.due_at, rules_.red_after_hours * 60)
    part.day_before_at, part.on_day_at = cal.reminder_moments(part.due_at)
    part.alert_level = AlertLevel.NONE
    part.reminded = Reminded.NONE
    part.next_check_at = min(part.remind_at, part.day_before_at)


def _watch_write(case: Case, changed: dict[str, Any]) -> None:
    """Write the scan's next look at the case, where `_arm` changed it: a row of `DeadlineWatch`
    (one upsert), not a column of the case. Takes it out of `changed` (the case's own columns)."""
    if "next_check_at" not in changed:
        return
    DeadlineWatch.objects.bulk_create(
        [
            DeadlineWatch(
                case_id=case.pk, tenant_id=case.tenant_id, next_check_at=changed.pop("next_check_at")
            )
        ],
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["next_check_at"],
    )


def _set(case: Case, changed: dict[str, Any], **values: Any) -> None:
    for name, value in values.items():
        setattr(case, name, value)
        changed[name] = value


def _event(
    *,
    case: Case,
    actor: User | None,
    action: str,
    from_status: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        tenant_id=case.tenant_id,
        case=case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        due_at=case.due_at,
        data=data or {},
        at=at or timezone.now(),
    )
    if not _QUIET.get():
        _notify(event.pk)
    return event


def _notify(event_id: int) -> None:
    """Queued with the event, in its transaction: published after the commit or, if the broker is
    down, by the outbox relay once it answers."""
    from . import tasks

    outbox.enqueue(task=tasks.case_event_notify, key=f"cases.event_notify:{event_id}", args=[event_id])


def _member(unit: Unit, person: User | None) -> None:
    if person is not None and not Membership.objects.filter(unit=unit, user=person).exists():
        raise ValidationError(
            {
                "responsible_person": [
                    _("%(person)s does not work in %(unit)s.") % {"person": person, "unit": unit}
                ]
            }
        )


def _check_unit(case: Case, unit: Unit | None, field_name: str = "responsible_unit") -> Unit:
    if unit is None:
        raise ValidationError({field_name: [_("Choose a responsible unit.")]})
    if unit.tenant_id != case.tenant_id or not unit.is_active:
        raise ValidationError({field_name: [_("No such active unit in this city.")]})
    if unit.node_id is not None:
        # An office serves its own grid: the case must lie at or below the office's node.
        level = GridNode.objects.filter(pk=unit.node_id).values_list("level", flat=True).first()
        if level is None or getattr(case, scoping.LEVEL_COLUMN[Level(level)]) != unit.node_id:
            raise ValidationError(
                {field_name: [_("%(unit)s serves another grid than this case's.") % {"unit": unit}]}
            )
    return unit


def _future(due_at: dt.datetime | None, now: dt.datetime, field_name: str = "due_at") -> dt.datetime | None:
    if due_at is None:
        return None
    if timezone.is_naive(due_at):
        raise ValidationError({field_name: [_("Give the deadline with its time zone.")]})
    if due_at <= now:
        raise ValidationError({field_name: [_("The deadline must lie in the future.")]})
    return due_at


def _reason(text: str, field_name: str = "reason") -> str:
    text = _limited((text or "").strip(), field_name)
    if not text:
        raise ValidationError({field_name: [_("Give a reason.")]})
    return text


def _limited(text: str, field_name: str, limit: int = NOTE_MAX) -> str:
    """A free text within its length, else a ValidationError naming the field (nothing is cut)."""
    if len(text) > limit:
        raise ValidationError(
            {
                field_name: [
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": limit, "count": len(text)}
                ]
            }
        )
    return text


@dataclass
class _Step:
    case: Case
    actor: User | None
    now: dt.datetime
    changed: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    restart_deadline: bool = False
    keep_deadline: bool = False

    def set(self, **values: Any) -> None:
        _set(self.case, self.changed, **values)


def _load_for_update(case_id: int) -> Case:
    return (
        Case.objects.select_related("node", "responsible_unit")
        .prefetch_related(Prefetch("parts", queryset=CasePart.objects.order_by("id")))
        .get(pk=case_id)
    )


@contextmanager
def _transition(actor: User, case: Case, name: str, version: int | None) -> Iterator[_Step]:
    """Check state, role and version; let the caller change the case; write it conditionally + timeline."""
    transition = rules.TRANSITIONS[name]
    expected = case.version if version is None else version
    with transaction.atomic():
        fresh = _load_for_update(case.pk)
        # A stale request is a conflict first: what the user may do was decided on a case that
        # has since changed (a transfer may have taken it from them), so they must reload.
        if fresh.version != expected:
            raise CaseConflict(
                _("Someone else changed this case meanwhile (version %(now)s, you saw %(seen)s). Reload it.")
                % {"now": fresh.version, "seen": expected},
                version=fresh.version,
            )
        user_roles = rules.roles(actor, fresh, rules.open_part_units(fresh))
        if not transition.who & user_roles:
            raise PermissionDenied(_("You may not “%(action)s” this case.") % {"action": transition.label})
        why = rules.refusal(transition, fresh, user_roles)
        if why:
            raise CaseConflict(why, version=fresh.version)
        from_status = fresh.status
        step = _Step(case=fresh, actor=actor, now=timezone.now())
        yield step
        if transition.target is not None:
            step.set(status=transition.target)
        if step.keep_deadline:
            pass
        elif (transition.target is not None and transition.target != from_status) or step.restart_deadline:
            if fresh.status in (Status.PAUSED,):
                pass  # the deadline freezes; `case_resume` moves it on by the paused working time
            elif fresh.status in TIMED_STATUSES:
                if "due_at" not in step.changed:
                    _start_deadline(fresh, step.now, step.changed)
            else:
                _clear_deadline(fresh, step.changed)
        if _ARMING_FIELDS & step.changed.keys():
            _arm(fresh, step.now, step.changed)
        if fresh.status in (Status.CLOSED, Status.MERGED):
            # A finished or returned case: its open orders no longer wait for a reply.
            from .supervision import orders_withdraw

            orders_withdraw(case=fresh, now=step.now)
        step.set(updated_at=step.now)
        _watch_write(fresh, step.changed)
        rows = Case.objects.filter(pk=fresh.pk, version=expected).update(
            version=F("version") + 1, **step.changed
        )
        if rows != 1:
            raise CaseConflict(_("Someone else changed this case meanwhile. Reload it."))
        fresh.version = expected + 1
        _event(
            case=fresh,
            actor=actor,
            action=name,
            from_status=from_status,
            note=step.note,
            data=step.data,
            at=step.now,
        )
    case.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    case.version = fresh.version


# --- recording ------------------------------------------------------------------------------------


PARTY_PHONE_COLUMN = "party_phone"


def _clean_parties(parties: Any) -> list[dict[str, str]]:
    if parties in (None, ""):
        return []
    if not isinstance(parties, list) or len(parties) > 50:
        raise ValidationError({"parties": [_("Parties are a list of at most 50 people.")]})
    cleaned = []
    for item in parties:
        if not isinstance(item, dict):
            raise ValidationError(
                {"parties": [_("Each party has a name, and optionally a role and a phone.")]}
            )
        name = str(item.get("name", "")).strip()
        role = str(item.get("role", "")).strip()
        phone = str(item.get("phone", "")).strip()
        if not name or len(name) > 50 or len(role) > 50:
            raise ValidationError({"parties": [_("Each party needs a name of at most 50 characters.")]})
        if phone and not _PHONE.match(phone):
            raise ValidationError({"parties": [_("“%s” is not a phone number.") % phone]})
        party = {"name": name, "role": role}
        if phone:
            # A party's phone is personal data: stored encrypted, shown masked, never in plain.
            party["phone_enc"] = crypto.encrypt(phone, column=PARTY_PHONE_COLUMN)
            party["phone_masked"] = crypto.mask_phone(phone)
        cleaned.append(party)
    return cleaned


def _registered_parties(actor: User, node: GridNode, residents: Sequence[Resident]) -> list[dict[str, Any]]:
    """Parties who are registered residents: their name and id (the link to their page), no numbers."""
    found = []
    for resident in residents:
        if resident.tenant_id != node.tenant_id or not scoping.can(actor, scoping.VIEW, resident.plot):
            raise ValidationError({"residents": [_("Choose residents in your grid.")]})
        party: dict[str, Any] = {"name": resident.name, "role": "", "resident": resident.pk}
        if resident.phone_masked:
            party["phone_masked"] = resident.phone_masked
        found.append(party)
    return found


def case_record(
    *,
    actor: User,
    node: GridNode,
    kind: str,
    title: str,
    source: str,
    sub_kind: str = "other",
    severity: str = Severity.GENERAL,
    description: str = "",
    address: str = "",
    parties: Sequence[dict[str, str]] | None = None,
    source_ref: str = "",
    uploads: Sequence[UploadedFile] = (),
    visit: Visit | None = None,
    latitude: Any = None,
    longitude: Any = None,
    residents: Sequence[Resident] = (),
) -> Case:
    """Record a case at a grid node in the actor's `record_case` scope; its acceptance clock starts.

    `uploads` (photos, documents) are checked before anything is written and stored with the case.
    `latitude`/`longitude`: where it was recorded (a phone's position), refused far outside the city.
    `residents`: parties picked from the registry (the caller read them through a scoped selector;
    each must lie in the actor's view): kept by name and resident id, never their ID numbers.
    """
    if not scoping.can_now(actor, RECORD_CASE, node):
        raise ValidationError({"node": [_("You may not record cases at this grid node.")]})
    errors: dict[str, list[str]] = {}
    if kind not in CaseKind.values:
        errors["kind"] = [_("Unknown kind.")]
    elif sub_kind not in KIND_SUBKINDS[kind]:
        errors["sub_kind"] = [_("This sub-kind does not belong to the kind.")]
    if source not in Source.values:
        errors["source"] = [_("Unknown source.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Unknown severity.")]
    if not (title or "").strip():
        errors["title"] = [_("Give the case a title.")]
    for name, value, limit in (
        ("title", title, 200),
        ("description", description, DESCRIPTION_MAX),
        ("address", address, 200),
        ("source_ref", source_ref, 64),
    ):
        try:
            _limited(value or "", name, limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        lat, lng = geo.position_check(extent=node.tenant.extent, latitude=latitude, longitude=longitude)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    cleaned_parties = _registered_parties(actor, node, residents) + _clean_parties(parties)
    if len(cleaned_parties) > 50:
        raise ValidationError({"parties": [_("Parties are a list of at most 50 people.")]})
    checked = []
    for upload in uploads:
        try:
            checked.append(attachment_check(upload))
        except ValidationError as exc:
            raise ValidationError({"files": exc.message_dict["file"]}) from exc
    now = timezone.now()
    with transaction.atomic():
        case = Case(
            **scoping.ancestor_columns(node),
            node=node,
            kind=kind,
            sub_kind=sub_kind,
            source=source,
            source_ref=source_ref,
            visit=visit,
            severity=severity,
            title=title.strip(),
            description=description,
            address=address,
            latitude=lat,
            longitude=lng,
            parties=cleaned_parties,
            party_names=" ".join(p["name"] for p in cleaned_parties),
            tier=LEVEL_TIER[Level(node.level)],
            status=Status.REGISTERED,
            reporter=actor,
            created_at=now,
            updated_at=now,
        )
        changed: dict[str, Any] = {}
        _start_deadline(case, now, changed)
        _arm(case, now, changed)
        case.full_clean(exclude=["tenant", "city", "township", "cell", "plot", "node", "reporter"])
        case.save()
        _watch_write(case, changed)
        _event(
            case=case,
            actor=actor,
            action="record",
            from_status="",
            note=description[:500],
            at=now,
            data={"node": node.name, "kind": kind, "severity": severity, "source": source},
        )
        for upload, name, content_type in checked:
            _store(actor=actor, case=case, upload=upload, name=name, content_type=content_type)
    return case


def case_raise_from_visit(
    *,
    actor: User,
    visit: Visit,
    kind: str,
    title: str,
    sub_kind: str = "other",
    severity: str = Severity.GENERAL,
    description: str = "",
    uploads: Sequence[UploadedFile] = (),
) -> tuple[Case, bool]:
    """Raise a case from a visit (the visit's "raise a case" outcome): recorded at the visit's plot,
    linked to the visit, carrying the visit's photos. `(case, created)`: one case per visit (a unique
    constraint), so raising it again returns the case already raised."""
    existing = Case.objects.filter(visit=visit).first()
    if existing is not None:
        return existing, False
    if visit.visitor_id != actor.pk:
        raise ValidationError({"visit": [_("Only the member who made the visit raises its case.")]})
    if visit.outcome != VisitOutcome.CASE:
        raise ValidationError({"visit": [_("This visit did not end with “raise a case”.")]})
    plot = GridNode.objects.get(pk=visit.plot_id)
    text = description or "\n".join(part for part in (visit.seen, visit.heard) if part)
    try:
        with transaction.atomic():
            case = case_record(
                actor=actor,
                node=plot,
                kind=kind,
                title=title,
                source=Source.VISIT,
                sub_kind=sub_kind,
                severity=severity,
                description=text,
                address=visit.household.address,
                uploads=uploads,
                visit=visit,
            )
            for photo in visit.photos.all():
                # A copy: the case's file goes with the case, the visit keeps its own.
                with photo.file.open("rb") as source:
                    _store(
                        actor=actor,
                        case=case,
                        upload=source,
                        name=photo.name,
                        content_type=photo.content_type,
                    )
    except IntegrityError:
        existing = Case.objects.filter(visit=visit).first()
        if existing is None:
            raise
        return existing, False
    return case, True


# --- the transitions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssistSpec:
    unit: Unit
    task: str
    due_at: dt.datetime | None = None


def case_dispatch(
    *,
    actor: User,
    case: Case,
    responsible_unit: Unit | None,
    responsible_person: User | None = None,
    due_at: dt.datetime | None = None,
    assists: Sequence[AssistSpec] = (),
    note: str = "",
    version: int | None = None,
    confirm_late_parts: bool = False,
) -> Case:
    """Send the case to a responsible unit (and person), with a deadline; joint cases name assisting units.

    A typed deadline (`due_at`) is the case's deadline: it is kept when the unit accepts, unless a
    binding time limit says otherwise (see `case_accept`). An assisting unit's part never ends after
    the case's own deadline unless the dispatcher confirms it (`confirm_late_parts`); a part without
    its own deadline gets the policy's handling limit, but never later than the case's deadline.
    """
    with _transition(actor, case, "dispatch", version) as step:
        unit = _check_unit(step.case, responsible_unit)
        _member(unit, responsible_person)
        explicit = _future(due_at, step.now)
        # Parts from an earlier dispatch (before a return or an escalation) stay with their units.
        assisting = _not_assisting(step.case, unit)
        seen = {unit.pk} | assisting
        parts = []
        for spec in assists:
            assist = _check_unit(step.case, spec.unit, "assists")
            if assist.pk in seen:
                raise ValidationError({"assists": [_("Each unit takes one part, and the lead unit none.")]})
            seen.add(assist.pk)
            if not (spec.task or "").strip():
                raise ValidationError({"assists": [_("Describe each assisting unit's part.")]})
            parts.append(
                CasePart(
                    tenant_id=step.case.tenant_id,
                    case=step.case,
                    unit=assist,
                    task=spec.task.strip()[:200],
                    due_at=_future(spec.due_at, step.now, "assists"),
                )
            )
        cal = _calendar_for(step.case, step.now)
        late: list[str] = []
        if parts:
            # The case's own deadline: the one typed, else the policy's handling limit from now.
            limit = policy.limit_for(step.case, Step.HANDLING, cal.day_minutes)
            handling_due = policy.deadline_from(cal, step.now, limit).due_at
            own_due = explicit or handling_due
            for part in parts:
                if part.due_at is None:
                    part.due_at = min(handling_due, own_due)
                elif part.due_at > own_due:
                    late.append(
                        _("The part of %(unit)s is due %(part)s, after the case's own deadline %(case)s.")
                        % {"unit": part.unit.name, "part": _local(part.due_at), "case": _local(own_due)}
                    )
            if late and not confirm_late_parts:
                raise ValidationError(
                    {"assists": [*late, _("Confirm the later deadline to dispatch anyway, or shorten it.")]}
                )
        for part in parts:
            _arm_part(part, step.now, cal, step.case.tenant_id)
        step.set(
            responsible_unit=unit,
            responsible_person=responsible_person,
            dispatched_by=actor,
            dispatcher_due_at=explicit,
            returned_at=None,
        )
        if explicit:
            step.set(status=Status.DISPATCHED)
            _explicit_deadline(step.case, step.now, explicit, step.changed)
        CasePart.objects.bulk_create(parts)
        step.note = note
        step.data = {
            "unit": unit.name,
            "person": str(responsible_person or ""),
            "assists": [p.unit.name for p in parts],
            **_holder_ids(unit, responsible_person),
        }
        if explicit:
            step.data["deadline_typed"] = explicit.isoformat()
        if late:
            step.data["late_parts_confirmed"] = late
    return case


def _holder_ids(unit: Unit, person: User | None) -> dict[str, int | None]:
    """Who holds the case from this event on, by id (the responsibility tracing of reports reads them)."""
    return {"unit_id": unit.pk, "person_id": person.pk if person is not None else None}


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _not_assisting(case: Case, unit: Unit) -> set[int]:
    """The units assisting on the case; the lead unit must not be one of them."""
    assisting = {p.unit_id for p in case.parts.all()}
    if unit.pk in assisting:
        raise ValidationError({"responsible_unit": [_("This unit already assists on the case.")]})
    return assisting


def case_accept(*, actor: User, case: Case, note: str = "", version: int | None = None) -> Case:
    """The unit takes the case on. Its handling deadline is the one the dispatcher typed, unless a
    binding time limit is shorter: then the deadline moves to the limit and the timeline says why."""
    with _transition(actor, case, "accept", version) as step:
        if step.case.responsible_person_id is None:
            step.set(responsible_person=actor)
        step.note = note
        typed = step.case.dispatcher_due_at
        if typed is not None:
            cal = _calendar_for(step.case, step.now)
            limit = policy.limit_for(step.case, Step.HANDLING, cal.day_minutes)
            allowed = policy.deadline_from(cal, step.now, limit)
            decision = policy.accepted_deadline(typed=typed, allowed=allowed, limit=limit)
            if decision.moved:
                _set(
                    step.case,
                    step.changed,
                    step_started_at=step.now,
                    due_at=allowed.due_at,
                    yellow_at=allowed.yellow_at,
                    red_at=allowed.red_at,
                    deadline_seq=step.case.deadline_seq + 1,
                    alert_level=AlertLevel.NONE,
                )
                step.data = {
                    "deadline_moved": {
                        "from": typed.isoformat(),
                        "to": allowed.due_at.isoformat(),
                        "policy": limit.source,
                        "limit_minutes": limit.minutes,
                    }
                }
            else:
                _explicit_deadline(step.case, step.now, typed, step.changed)
                step.data = {"deadline_kept": typed.isoformat()}
    return case


def case_return(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    with _transition(actor, case, "return", version) as step:
        step.note = _reason(reason)
        step.data = {"unit": str(step.case.responsible_unit)}
        step.set(responsible_unit=None, responsible_person=None, returned_at=step.now)
    return case


def case_dispute(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    with _transition(actor, case, "dispute", version) as step:
        step.note = _reason(reason)
        step.set(disputed_at=step.now, dispute_reason=step.note)
        step.data = {"unit": str(step.case.responsible_unit)}
    return case


def case_decide(
    *,
    actor: User,
    case: Case,
    responsible_unit: Unit | None,
    responsible_person: User | None = None,
    reason: str,
    version: int | None = None,
) -> Case:
    """The tier above settles a dispute: the same unit or another one; the dispute's duration is kept."""
    with _transition(actor, case, "decide", version) as step:
        unit = _check_unit(step.case, responsible_unit)
        _not_assisting(step.case, unit)
        _member(unit, responsible_person)
        step.note = _reason(reason)
        took = int((step.now - step.case.disputed_at).total_seconds()) if step.case.disputed_at else 0
        step.data = {
            "unit": unit.name,
            "previous_unit": str(step.case.responsible_unit),
            "dispute_seconds": took,
            **_holder_ids(unit, responsible_person),
        }
        step.set(
            responsible_unit=unit,
            responsible_person=responsible_person,
            disputed_at=None,
            dispute_seconds=step.case.dispute_seconds + took,
            dispatched_by=actor,
        )
    return case


def case_transfer(
    *,
    actor: User,
    case: Case,
    responsible_unit: Unit | None,
    responsible_person: User | None = None,
    reason: str,
    version: int | None = None,
) -> Case:
    with _transition(actor, case, "transfer", version) as step:
        unit = _check_unit(step.case, responsible_unit)
        if unit.pk == step.case.responsible_unit_id:
            raise ValidationError({"responsible_unit": [_("The case is already with this unit.")]})
        _not_assisting(step.case, unit)
        _member(unit, responsible_person)
        step.note = _reason(reason)
        step.data = {
            "unit": unit.name,
            "previous_unit": str(step.case.responsible_unit),
            **_holder_ids(unit, responsible_person),
        }
        step.set(responsible_unit=unit, responsible_person=responsible_person, dispatched_by=actor)
        step.restart_deadline = True
    return case


def case_confirm(
    *,
    actor: User,
    case: Case,
    responsible_person: User | None,
    due_at: dt.datetime | None,
    note: str = "",
    version: int | None = None,
) -> Case:
    """The dispatching tier confirms who is responsible and by when (分级负责、限期解决), keeping the unit.

    The deadline is set by hand; another unit is a transfer, not a confirmation."""
    with _transition(actor, case, "confirm", version) as step:
        unit = step.case.responsible_unit
        assert unit is not None  # a handled case always has its unit (cases_handled_has_unit)
        _member(unit, responsible_person)
        explicit = _future(due_at, step.now)
        if explicit is None:
            raise ValidationError({"due_at": [_("Give the deadline.")]})
        step.note = _limited(note or "", "note")
        step.data = {
            "unit": unit.name,
            "person": str(responsible_person or ""),
            "previous_due_at": step.case.due_at.isoformat() if step.case.due_at else None,
            **_holder_ids(unit, responsible_person),
        }
        step.set(responsible_person=responsible_person)
        _explicit_deadline(step.case, step.now, explicit, step.changed)
    return case


def case_escalate(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    """Report to the tier above (上报): it becomes that tier's case to dispatch."""
    with _transition(actor, case, "escalate", version) as step:
        step.note = _reason(reason)
        above = TIER_ABOVE[step.case.tier]
        step.data = {
            "from_tier": step.case.tier,
            "to_tier": str(above),
            "unit": str(step.case.responsible_unit or ""),
        }
        step.set(tier=above, responsible_unit=None, responsible_person=None)
        step.restart_deadline = True
    return case


def case_request_extension(
    *, actor: User, case: Case, amount: int, unit: str, reason: str, version: int | None = None
) -> Case:
    if unit not in LimitUnit.values or not isinstance(amount, int) or not 0 < amount <= 1000:
        raise ValidationError({"amount": [_("Ask for 1 to 1000 working days or hours.")]})
    with _transition(actor, case, "request_extension", version) as step:
        step.note = _reason(reason)
        minutes = calendar.limit_minutes(amount, unit, _calendar_for(step.case, step.now).day_minutes)
        step.set(extension_requested_minutes=minutes, extension_reason=step.note)
        step.data = {"amount": amount, "unit": unit, "minutes": minutes}
        step.keep_deadline = True
    return case


def case_approve_extension(*, actor: User, case: Case, note: str = "", version: int | None = None) -> Case:
    with _transition(actor, case, "approve_extension", version) as step:
        c = step.case
        minutes = c.extension_requested_minutes or 0
        cal = _calendar_for(c, step.now)
        base = c.due_at or step.now
        step.set(
            due_at=cal.add(base, minutes),
            yellow_at=cal.add(c.yellow_at or base, minutes),
            red_at=cal.add(c.red_at or base, minutes),
            extension_minutes=c.extension_minutes + minutes,
            extension_requested_minutes=None,
            deadline_seq=c.deadline_seq + 1,
            alert_level=AlertLevel.NONE,
            reminded=Reminded.NONE,
        )
        step.note = note
        step.data = {"minutes": minutes}
        step.keep_deadline = True
    return case


def case_deny_extension(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    with _transition(actor, case, "deny_extension", version) as step:
        step.note = _reason(reason)
        step.data = {"minutes": step.case.extension_requested_minutes}
        step.set(extension_requested_minutes=None)
        step.keep_deadline = True
    return case


def case_pause(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    """Stop the clock while waiting on the residents; the deadline moves on by the paused working time."""
    with _transition(actor, case, "pause", version) as step:
        step.note = _reason(reason)
        step.set(paused_at=step.now, pause_reason=step.note[:200])
        step.keep_deadline = True
    return case


def case_resume(*, actor: User, case: Case, note: str = "", version: int | None = None) -> Case:
    with _transition(actor, case, "resume", version) as step:
        c = step.case
        paused_at = c.paused_at or step.now
        cal = _calendar_for(c, step.now)

        def shifted(moment: dt.datetime | None) -> dt.datetime | None:
            return None if moment is None else cal.add(step.now, cal.minutes_between(paused_at, moment))

        seconds = int((step.now - paused_at).total_seconds())
        step.set(
            due_at=shifted(c.due_at),
            yellow_at=shifted(c.yellow_at),
            red_at=shifted(c.red_at),
            paused_at=None,
            pause_reason="",
            paused_seconds=c.paused_seconds + seconds,
        )
        step.note = note
        step.data = {"paused_seconds": seconds}
        step.keep_deadline = True
    return case


def case_submit(*, actor: User, case: Case, resolution: str, version: int | None = None) -> Case:
    with _transition(actor, case, "submit", version) as step:
        step.set(resolution=_reason(resolution, "resolution"))
        step.note = step.case.resolution
    return case


def case_reject(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    with _transition(actor, case, "reject", version) as step:
        step.note = _reason(reason)
    return case


def case_close(
    *, actor: User, case: Case, satisfaction: str, callback_note: str = "", version: int | None = None
) -> Case:
    """Verify after the call-back to the residents (回访) and close."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": [_("Record the residents' satisfaction from the call-back.")]})
    with _transition(actor, case, "close", version) as step:
        step.set(satisfaction=satisfaction, callback_note=callback_note, closed_at=step.now)
        step.note = callback_note
        step.data = {"satisfaction": satisfaction}
    return case


def case_reopen(*, actor: User, case: Case, reason: str, version: int | None = None) -> Case:
    with _transition(actor, case, "reopen", version) as step:
        step.note = _reason(reason)
        step.set(closed_at=None, satisfaction="")
    return case


def case_merge(*, actor: User, case: Case, into: Case, note: str = "", version: int | None = None) -> Case:
    """Mark the case a duplicate of `into`; the target's timeline records it too."""
    with _transition(actor, case, "merge", version) as step:
        if into.pk == step.case.pk or into.tenant_id != step.case.tenant_id:
            raise ValidationError({"into": [_("Choose another case of this city.")]})
        target = Case.objects.get(pk=into.pk)
        if not target.is_open or not rules.is_manager(actor, target):
            raise ValidationError({"into": [_("The case to merge into must be open and in your hands.")]})
        step.set(merged_into=target)
        step.note = note
        step.data = {"into": target.pk}
        _event(
            case=target,
            actor=actor,
            action="merged_in",
            from_status=target.status,
            note=note,
            data={"from": step.case.pk},
            at=step.now,
        )
    return case


def part_complete(*, actor: User, case: Case, note: str) -> CasePart:
    """An assisting unit reports its part done (a conditional UPDATE: done once, by one person)."""
    transition = rules.TRANSITIONS["complete_part"]
    with transaction.atomic():
        fresh = _load_for_update(case.pk)
        from teams.units import unit_ids_of

        mine = [
            p for p in fresh.parts.all() if p.status == PartStatus.OPEN and p.unit_id in unit_ids_of(actor)
        ]
        if not mine or actor.tenant_id != fresh.tenant_id:
            raise PermissionDenied(_("Your unit has no open part in this case."))
        why = rules.refusal(transition, fresh, frozenset({rules.ASSIST}))
        if why:
            raise CaseConflict(why, version=fresh.version)
        part = mine[0]
        now = timezone.now()
        text = _reason(note, "note")
        rows = CasePart.objects.filter(pk=part.pk, status=PartStatus.OPEN).update(
            status=PartStatus.DONE, done_at=now, done_by=actor, done_note=text, next_check_at=None
        )
        if rows != 1:
            raise CaseConflict(_("This part was reported done meanwhile."))
        _event(
            case=fresh,
            actor=actor,
            action="complete_part",
            from_status=fresh.status,
            note=text,
            data={"unit": str(part.unit_id)},
            at=now,
        )
    part.refresh_from_db()
    return part


# --- attachments ----------------------------------------------------------------------------------

# Extension -> (accepted content types, leading bytes any of which the file must start with).
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ALLOWED_FILES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".doc": ("application/msword", _OLE),
    ".xls": ("application/vnd.ms-excel", _OLE),
    ".ppt": ("application/vnd.ms-powerpoint", _OLE),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
}


def _may_contribute(actor: User, case: Case) -> bool:
    if rules.roles(actor, case, rules.open_part_units(case)):
        return True
    return scoping.can_now(actor, RECORD_CASE, case.node)


def attachment_check(upload: UploadedFile) -> tuple[UploadedFile, str, str]:
    """(upload to store, safe file name, content type) of an acceptable upload, else ValidationError.
    Images are decoded and re-encoded (ruian_grid/images.py): what is stored is never the uploaded bytes."""
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()[:150]
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    limit = settings.CASES_ATTACHMENT_MAX_BYTES
    if ext not in ALLOWED_FILES:
        raise ValidationError({"file": [_("Only images (JPEG, PNG, GIF, WebP), PDF and office documents.")]})
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {"file": [_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]}
        )
    if upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    content_type, magics = ALLOWED_FILES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics) or (ext == ".webp" and head[8:12] != b"WEBP"):
        raise ValidationError({"file": [_("The file's content does not match its type %s.") % ext]})
    if ext in images.IMAGE_EXTENSIONS:
        return images.reencode(upload, name)
    return upload, name, content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _store(*, actor: User, case: Case, upload: UploadedFile, name: str, content_type: str) -> CaseAttachment:
    """Write the file to storage, then its row and timeline entry (the file is removed if they fail)."""
    attachment = CaseAttachment(
        tenant_id=case.tenant_id,
        case=case,
        name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    stored = attachment.file.name
    try:
        with transaction.atomic():
            attachment.save()
            _event(
                case=case,
                actor=actor,
                action="attach",
                from_status=case.status,
                note=name,
                data={"attachment": attachment.pk, "size": upload.size, "type": content_type},
            )
    except Exception:
        attachment.file.storage.delete(stored)
        raise
    return attachment


def case_attach(*, actor: User, case: Case, upload: UploadedFile) -> CaseAttachment:
    """Store a photo or document with the case (through the default storage) and note it on the timeline."""
    if case.status == Status.MERGED or not _may_contribute(actor, case):
        raise PermissionDenied(_("You may not add files to this case."))
    upload, name, content_type = attachment_check(upload)
    with transaction.atomic():
        attachment = _store(actor=actor, case=case, upload=upload, name=name, content_type=content_type)
    return attachment


# --- notices --------------------------------------------------------------------------------------

# Timeline actions that put something into people's inboxes: who is told.
_NOTIFY = {
    "dispatch": "unit",
    "transfer": "unit",
    "decide": "unit",
    "reopen": "unit",
    "reject": "unit",
    "return": "dispatcher",
}


def case_event_deliver(*, event_id: int) -> int:
    """Inbox items for one timeline entry (a case sent, returned, reopened ...); a rerun adds none."""
    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None or event.action not in _NOTIFY:
        return 0
    from teams import inbox

    case = event.case
    if _NOTIFY[event.action] == "unit":
        users = (case.responsible_person_id,) if case.responsible_person_id else ()
        units = (case.responsible_unit_id,) if case.responsible_unit_id else ()
        subject = _("%(action)s: %(title)s") % {"action": event.label, "title": case.title}
    else:
        users = (case.dispatched_by_id,) if case.dispatched_by_id else ()
        units = ()
        subject = _("Returned: %(title)s") % {"title": case.title}
    users = tuple(u for u in users if u != event.actor_id)
    return inbox.deliver_many(
        tenant_id=case.tenant_id,
        kind=f"case_{event.action}",
        about_type="cases.case",
        notices=[
            inbox.Notice(
                subject=subject,
                url=reverse("cases:detail", args=[case.pk]),
                key=f"case-event:{event.pk}",
                about_id=case.pk,
                users=users,
                units=units,
            )
        ],
    )
