"""State changes for people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grids import access
from grids.models import GridNode
from grids.services import grant_assign, grant_check

from .models import User
from .roles import ROLE_PERMS, STAFF_ROLES


def user_create(
    *,
    actor: User | None,
    username: str,
    home_node: GridNode,
    role: str,
    password: str | None = None,
    full_name: str = "",
) -> User:
    """A user of the home node's tenant, holding the role's rights at the home node."""
    if role not in ROLE_PERMS:
        raise ValidationError({"role": [_("Unknown role %s.") % role]})
    # Nobody creates a person with rights beyond their own (checked again, in the same way, by the grant).
    grant_check(actor=actor, perms=ROLE_PERMS[role], node=home_node)
    with transaction.atomic():
        user = User(
            username=username,
            tenant_id=home_node.tenant_id,
            home_node=home_node,
            full_name=full_name,
            is_staff=role in STAFF_ROLES,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        grant_assign(actor=actor, user=user, perms=ROLE_PERMS[role], node=home_node)
    return user


# --- responsible units ---------------------------------------------------------------------------

from .models import Membership, Unit  # noqa: E402


def unit_create(
    *,
    actor: User | None,
    tenant_id: int,
    kind: str,
    code: str,
    name: str,
    node: GridNode | None = None,
) -> Unit:
    """A responsible unit of a city. Offices stand at their grid node; departments at none."""
    from grids import scoping

    if node is not None and node.tenant_id != tenant_id:
        raise ValidationError({"node": [_("The grid node belongs to another city.")]})
    if actor is not None and not scoping.is_unrestricted(actor):
        anchor = node or GridNode.objects.get(tenant_id=tenant_id, level=0)
        if actor.tenant_id != tenant_id or not scoping.can_now(actor, "manage_grid", anchor):
            raise ValidationError(_("You may not create units here."))
    with transaction.atomic():
        unit = Unit(tenant_id=tenant_id, kind=kind, code=code, name=name, node=node)
        unit.full_clean()
        unit.save()
    return unit


def membership_add(*, actor: User | None, unit: Unit, user: User, role: str = "member") -> Membership:
    """Put a person into a unit; adding them twice changes nothing."""
    if user.tenant_id != unit.tenant_id:
        raise ValidationError({"user": [_("The person belongs to another city.")]})
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(unit=unit, user=user, defaults={"role": role})
        if created:
            access.access_changed(users=[user])
    return membership


# --- the inbox -----------------------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from .inbox_models import InboxItem  # noqa: E402


def inbox_mark_read(*, actor: User, item: InboxItem) -> InboxItem:
    """Mark one of the actor's items read (reading it again changes nothing)."""
    if item.user_id != actor.pk:
        raise ValidationError(_("This item is not in your inbox."))
    now = timezone.now()
    if InboxItem.objects.filter(pk=item.pk, user_id=actor.pk, read_at__isnull=True).update(read_at=now):
        item.read_at = now
    return item


def inbox_mark_all_read(*, actor: User) -> int:
    """Mark every unread item of the actor read; returns how many changed."""
    return InboxItem.objects.filter(user_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())


# --- service teams, plot assignments, visit cadences and visits -----------------------------------

import datetime as dt  # noqa: E402
import uuid as uuid_module  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from django.core.files.uploadedfile import UploadedFile  # noqa: E402
from django.db import IntegrityError  # noqa: E402

from grids import scoping as _scoping  # noqa: E402
from grids.models import Household, Level  # noqa: E402
from grids.registry import services as registry_services  # noqa: E402
from grids.services import node_responsible_set  # noqa: E402
from ruian_grid import images  # noqa: E402

from .models import (  # noqa: E402
    MembershipRole,
    Pairing,
    PairingKind,
    PlotAssignment,
    UnitKind,
    Visit,
    VisitCadence,
    VisitOutcome,
    VisitPhoto,
)

MANAGE_GRID = "manage_grid"
ASSIGN = "assign_plots"  # plot assignments and pairings (township staff and administrators)
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_COUNT = 6
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _require_grid(actor: User | None, node: GridNode, message: str, perm: str = MANAGE_GRID) -> None:
    if actor is not None and not _scoping.can_now(actor, perm, node):
        raise ValidationError(message)


def service_team_of(cell: GridNode) -> Unit | None:
    """The active service team of a cell (one query)."""
    return Unit.objects.filter(
        tenant_id=cell.tenant_id, kind=UnitKind.SERVICE_TEAM, node=cell, is_active=True
    ).first()


def service_team_create(*, actor: User | None, cell: GridNode, name: str = "") -> Unit:
    """A cell's service team (平安和谐服务队), under the cell's governance office when it has one."""
    if cell.level != Level.CELL:
        raise ValidationError({"node": [_("A service team belongs to a village, community or enterprise.")]})
    _require_grid(actor, cell, _("You may not manage the service team of this cell."))
    office = Unit.objects.filter(tenant_id=cell.tenant_id, kind=UnitKind.CELL_OFFICE, node=cell).first()
    with transaction.atomic():
        team = Unit(
            tenant_id=cell.tenant_id,
            kind=UnitKind.SERVICE_TEAM,
            code=f"team-{cell.code}",
            name=(name or f"{cell.name}平安和谐服务队")[:100],
            node=cell,
            parent=office,
        )
        team.full_clean()
        team.save()
    return team


def team_member_add(
    *, actor: User | None, team: Unit, user: User, role: str = MembershipRole.MEMBER, title: str = ""
) -> Membership:
    """Put a person into a service team or leadership group within the actor's grid; a second call
    updates the role and title."""
    if role not in MembershipRole.values:
        raise ValidationError({"role": [_("Unknown role.")]})
    if user.tenant_id != team.tenant_id:
        raise ValidationError({"user": [_("The person belongs to another city.")]})
    anchor = team.node or GridNode.objects.get(tenant_id=team.tenant_id, level=Level.CITY)
    _require_grid(actor, anchor, _("You may not manage this team."))
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            unit=team, user=user, defaults={"role": role, "title": title}
        )
        if created:
            access.access_changed(users=[user])  # their units are read afresh from now on
        elif (membership.role, membership.title) != (role, title):
            membership.role, membership.title = role, title
            membership.save(update_fields=["role", "title"])
    return membership


def plot_assign(
    *, actor: User | None, plot: GridNode, member: User, duties: str = "", at: dt.datetime | None = None
) -> PlotAssignment:
    """Make `member` responsible for `plot` from now, closing the assignment in force.

    The member must be a person of the plot's city in the service team of the plot's cell. The grid
    node's `responsible` column follows in the same transaction (one source of truth: this table).
    """
    if plot.level != Level.PLOT:
        raise ValidationError({"plot": [_("Only plots are assigned a responsible member.")]})
    _require_grid(actor, plot, _("You may not assign people to this plot."), perm=ASSIGN)
    if member.tenant_id != plot.tenant_id:
        raise ValidationError({"member": [_("The person belongs to another city.")]})
    in_team = Membership.objects.filter(
        user=member, unit__kind=UnitKind.SERVICE_TEAM, unit__node_id=plot.parent_id, unit__is_active=True
    ).exists()
    if not in_team:
        raise ValidationError({"member": [_("The person is not in the service team of this plot's cell.")]})
    now = at or timezone.now()
    with transaction.atomic():
        current = PlotAssignment.objects.select_for_update().filter(plot=plot, ended_at__isnull=True).first()
        if current is not None:
            if current.member_id == member.pk:
                if current.duties != duties:
                    current.duties = duties
                    current.save(update_fields=["duties"])
                return current
            current.ended_at = now
            current.save(update_fields=["ended_at"])
        assignment = PlotAssignment(
            **_scoping.ancestor_columns(plot),
            member=member,
            duties=duties,
            started_at=now,
            assigned_by=actor,
        )
        assignment.plot = plot
        assignment.save()
        node_responsible_set(node=plot, user_id=member.pk)
    return assignment


def plot_unassign(*, actor: User | None, plot: GridNode) -> None:
    """Close the assignment in force: the plot has nobody until the next one."""
    _require_grid(actor, plot, _("You may not assign people to this plot."), perm=ASSIGN)
    with transaction.atomic():
        PlotAssignment.objects.filter(plot=plot, ended_at__isnull=True).update(ended_at=timezone.now())
        node_responsible_set(node=plot, user_id=None)


def cadence_set(*, actor: User | None, tenant_id: int, tag: int, interval_days: int) -> VisitCadence:
    """The city sets how often a kind of household is visited (tag 0: every household)."""
    from grids.registry.models import Tag

    if tag != 0 and tag not in Tag.values:
        raise ValidationError({"tag": [_("Unknown kind of household.")]})
    if not 1 <= interval_days <= 366:
        raise ValidationError({"interval_days": [_("An interval is 1 to 366 days.")]})
    city = GridNode.objects.get(tenant_id=tenant_id, level=Level.CITY)
    _require_grid(actor, city, _("Only the city sets the visit cadence."))
    with transaction.atomic():
        cadence, _created = VisitCadence.objects.update_or_create(
            tenant_id=tenant_id, tag=tag, defaults={"interval_days": interval_days}
        )
    return cadence


def photo_check(upload: UploadedFile) -> tuple[str, str]:
    """(safe name, content type) of an image upload, else a ValidationError: photos are images."""
    name = (upload.name or "photo").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()[:150] or "photo"
    if upload.size is None or upload.size == 0:
        raise ValidationError({"photos": [_("The photo %s is empty.") % name]})
    if upload.size > PHOTO_MAX_BYTES:
        raise ValidationError({"photos": [_("The photo %s is larger than 10 MB.") % name]})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return name, content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return name, "image/webp"
    raise ValidationError({"photos": [_("%s is not a photo: only JPEG, PNG, GIF or WebP images.") % name]})


def _photo_reencoded(upload: UploadedFile) -> tuple[UploadedFile, str, str]:
    """A photo checked (size, an image's first bytes) and then decoded and written again without its
    metadata (EXIF positions, camera serials) by the same code as case photos: (upload, name, type)."""
    name, _content_type = photo_check(upload)
    try:
        return images.reencode(upload, name)
    except ValidationError as exc:
        raise ValidationError({"photos": [f"{name}: {m}" for m in exc.messages]}) from exc


def _visit_reason(actor: User, household_id: Any) -> tuple[Household, PlotAssignment | None, Pairing | None]:
    """The household and the actor's reason to visit it: the plot they are responsible for now, else
    an open pairing (the officer's household, or a village paired with a unit the actor works in).
    Anything else is one refusal that says nothing about households elsewhere."""
    refusal = ValidationError({"household": [_("This household is not in a plot you are responsible for.")]})
    if not str(household_id).isdigit() or actor.tenant_id is None:
        raise refusal
    household = (
        _scoping.scope_rows(actor, _scoping.VIEW, Household.objects.all())
        .filter(pk=household_id)
        .select_related("plot")
        .first()
    )
    if household is not None:
        assignment = PlotAssignment.objects.filter(
            member=actor, plot_id=household.plot_id, ended_at__isnull=True
        ).first()
        if assignment is not None:
            return household, assignment, None
    # A pairing is the reason to visit even without a grid grant (a police officer): the pairing was
    # made by someone holding `assign_plots` there, and it carries the household's grid.
    pairing = _pairing_for(actor, int(household_id))
    if pairing is None:
        raise refusal
    household = Household.objects.select_related("plot").get(pk=int(household_id))
    return household, None, pairing


def visit_record(
    *,
    actor: User,
    client_id: uuid_module.UUID,
    household_id: Any,
    visited_on: dt.date,
    seen: str = "",
    heard: str = "",
    outcome: str = VisitOutcome.ROUTINE,
    resolution: str = "",
    tags: int | None = None,
    photos: Sequence[UploadedFile] = (),
) -> tuple[Visit, bool]:
    """Store a visit made on a phone; `(visit, created)`.

    Sending the same `client_id` again returns the stored visit with `created` False (the unique
    constraint decides, so two concurrent sends store one). A change to the household's tags goes
    through the registry's own service in the same transaction; photos must be images.
    """
    stored = Visit.objects.filter(client_id=client_id, visitor=actor).first()
    if stored is not None:
        return stored, False
    household, assignment, pairing = _visit_reason(actor, household_id)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if visited_on > today:
        errors["visited_on"] = [_("A visit cannot be dated in the future.")]
    elif visited_on < timezone.localtime(household.created_at).date():
        errors["visited_on"] = [_("The household was not registered yet on that day.")]
    if outcome not in VisitOutcome.values:
        errors["outcome"] = [_("Unknown outcome.")]
    elif outcome == VisitOutcome.RESOLVED and not resolution.strip():
        errors["resolution"] = [_("Say how it was resolved.")]
    if len(photos) > PHOTO_MAX_COUNT:
        errors["photos"] = [_("At most %d photos a visit.") % PHOTO_MAX_COUNT]
    if errors:
        raise ValidationError(errors)
    checked = [_photo_reencoded(upload) for upload in photos]
    record_note = ""
    saved_files: list[VisitPhoto] = []
    try:
        with transaction.atomic():
            visit = Visit(
                **_scoping.ancestor_columns(household.plot),
                household=household,
                visitor=actor,
                assignment=assignment,
                pairing=pairing,
                client_id=client_id,
                visited_on=visited_on,
                seen=seen,
                heard=heard,
                outcome=outcome,
                resolution=resolution,
            )
            try:
                with transaction.atomic():
                    visit.save()
            except IntegrityError:
                existing = Visit.objects.filter(client_id=client_id).first()
                if existing is None or existing.visitor_id != actor.pk:
                    raise ValidationError({"client_id": [_("This visit id is already used.")]}) from None
                return existing, False
            if tags is not None and tags != household.tags:
                registry_services.household_update(actor=actor, household=household, tags=tags)
                record_note = _("tags changed")
                visit.record_note = record_note
                visit.save(update_fields=["record_note"])
            for upload, name, content_type in checked:
                photo = VisitPhoto(
                    tenant_id=visit.tenant_id,
                    visit=visit,
                    name=name,
                    content_type=content_type,
                    size=upload.size or 0,
                )
                photo.file.save(name, upload, save=False)
                saved_files.append(photo)
                photo.save()
    except Exception:
        for photo in saved_files:
            photo.file.storage.delete(photo.file.name)
        raise
    return visit, True


# --- pairings (百家单位联百村、百名干警联百户) -------------------------------------------------------

from django.db.models import Q  # noqa: E402


def open_pairings_of(actor: User) -> Any:
    """The actor's open pairings: as the officer, or through a unit they work in."""
    return Pairing.objects.filter(tenant_id=actor.tenant_id or 0, ended_on__isnull=True).filter(
        Q(officer=actor) | Q(unit__memberships__user=actor, unit__is_active=True)
    )


def _pairing_for(actor: User, household_id: int) -> Pairing | None:
    """An open pairing that lets the actor visit this household (one query)."""
    cell_of_household = Household.objects.filter(pk=household_id, tenant_id=actor.tenant_id or 0).values(
        "cell_id"
    )
    return (
        open_pairings_of(actor)
        .filter(
            Q(kind=PairingKind.OFFICER_HOUSEHOLD, household_id=household_id)
            | Q(kind=PairingKind.UNIT_VILLAGE, cell_id__in=cell_of_household)
        )
        .order_by("kind", "id")  # a household's own officer before a unit paired with its village
        .first()
    )


def pairing_create(
    *,
    actor: User | None,
    unit: Unit | None = None,
    cell: GridNode | None = None,
    officer: User | None = None,
    household: Household | None = None,
    note: str = "",
    started_on: dt.date | None = None,
) -> Pairing:
    """Pair a unit with a village (`unit` + `cell`) or a police officer with a household
    (`officer` + `household`). Needs `assign_plots` at the village or the household's plot."""
    note = note.strip()[:200]
    if unit is not None and cell is not None and officer is None and household is None:
        if cell.level != Level.CELL:
            raise ValidationError({"cell": [_("A unit is paired with a village, community or enterprise.")]})
        if unit.tenant_id != cell.tenant_id:
            raise ValidationError({"unit": [_("The unit belongs to another city.")]})
        if unit.kind in (UnitKind.SERVICE_TEAM, UnitKind.LEADERSHIP_GROUP) or not unit.is_active:
            raise ValidationError({"unit": [_("Pair a department or an office, not a team or a group.")]})
        _require_grid(actor, cell, _("You may not make pairings here."), perm=ASSIGN)
        kind, anchor = PairingKind.UNIT_VILLAGE, cell
    elif officer is not None and household is not None and unit is None and cell is None:
        if officer.tenant_id != household.tenant_id or not officer.is_active:
            raise ValidationError({"officer": [_("The person belongs to another city.")]})
        _require_grid(actor, household.plot, _("You may not make pairings here."), perm=ASSIGN)
        kind, anchor = PairingKind.OFFICER_HOUSEHOLD, household.plot
    else:
        raise ValidationError(_("Pair a unit with a village, or a police officer with a household."))
    pairing = Pairing(
        **_scoping.ancestor_columns(anchor),
        kind=kind,
        unit=unit,
        officer=officer,
        household=household,
        note=note,
        started_on=started_on or timezone.localdate(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            pairing.save()
    except IntegrityError:
        raise ValidationError(_("This pairing already exists.")) from None
    return pairing


def pairing_end(*, actor: User | None, pairing: Pairing) -> Pairing:
    """End a pairing today (ending it again changes nothing); its visits stay counted where they were."""
    anchor = pairing.cell if pairing.kind == PairingKind.UNIT_VILLAGE else pairing.plot
    if anchor is None:
        raise ValidationError(_("You may not make pairings here."))
    _require_grid(actor, anchor, _("You may not make pairings here."), perm=ASSIGN)
    if pairing.ended_on is None:
        pairing.ended_on = max(timezone.localdate(), pairing.started_on)
        pairing.save(update_fields=["ended_on"])
    return pairing


# --- the work log (工作日志) --------------------------------------------------------------------------

from .models import NoteKind, WorkLogNote  # noqa: E402

NOTE_MAX = 2000


def _log_anchor(person: User | None, node: GridNode | None) -> GridNode:
    """The grid a log's notes are filed under: the office's node, or the person's home node (the
    city for people without one)."""
    if node is not None:
        return node
    assert person is not None
    if person.home_node_id is not None:
        return person.home_node  # type: ignore[return-value]
    return GridNode.objects.get(tenant_id=person.tenant_id, level=Level.CITY)


def _works_at(actor: User, node: GridNode) -> bool:
    return Membership.objects.filter(user=actor, unit__node=node, unit__is_active=True).exists()


def worklog_note_add(
    *, actor: User, day: dt.date, text: str, person: User | None = None, node: GridNode | None = None
) -> WorkLogNote:
    """Add a line to a log (a person's or an office's) for a day.

    On an open day (today) a person writes notes in their own log, and the people of an office in
    the office's log. A closed day is not written in: anyone who may read the log adds an annotation,
    which is never changed. The caller has fetched `person`/`node` through the log selectors (in the
    reader's scope).
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("Write something.")]})
    if len(text) > NOTE_MAX:
        raise ValidationError({"text": [_("At most %d characters.") % NOTE_MAX]})
    if (person is None) == (node is None):
        raise ValidationError(_("A note belongs to one person's log or one office's log."))
    today = timezone.localdate()
    if day > today:
        raise ValidationError({"day": [_("The log of a day that has not come yet cannot be written.")]})
    anchor = _log_anchor(person, node)
    if anchor.tenant_id != actor.tenant_id:
        raise ValidationError(_("You may not write in this log."))
    if day == today:
        kind = NoteKind.NOTE
        own = person is not None and person.pk == actor.pk
        office = node is not None and _works_at(actor, node)
        if not (own or office):
            kind = NoteKind.ANNOTATION  # a reader's remark on someone else's log is an annotation
    else:
        kind = NoteKind.ANNOTATION
    note = WorkLogNote(
        **_scoping.ancestor_columns(anchor),
        person=person,
        node=node,
        day=day,
        kind=kind,
        author=actor,
        text=text,
    )
    with transaction.atomic():
        note.save()
    return note


def worklog_note_edit(*, actor: User, note: WorkLogNote, text: str) -> WorkLogNote:
    """Change the text of one's own note while its day is open; annotations and closed days are not
    changed (the row is locked, so an edit cannot slip past midnight)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("Write something.")]})
    if len(text) > NOTE_MAX:
        raise ValidationError({"text": [_("At most %d characters.") % NOTE_MAX]})
    with transaction.atomic():
        fresh = WorkLogNote.objects.select_for_update().get(pk=note.pk)
        if fresh.author_id != actor.pk:
            raise ValidationError(_("Only the person who wrote a note may change it."))
        if fresh.kind != NoteKind.NOTE:
            raise ValidationError(_("An annotation is never changed; add another one."))
        if fresh.day < timezone.localdate():
            raise ValidationError(_("This day is closed: its log can only be annotated."))
        fresh.text = text
        fresh.edited_at = timezone.now()
        fresh.save(update_fields=["text", "edited_at"])
    return fresh
