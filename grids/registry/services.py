"""Every change to the registry, one function per use case.

Each takes the acting user first, checks the actor holds `manage_registry` at the plots involved, runs
in one transaction, and leaves a django-simple-history version carrying the actor (and a reason when
there is one). Uniqueness rests on the database's constraints, never on a check-then-write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from grids import geo, scoping
from grids.models import GridNode, Level, Tenant
from ruian_grid.outbox import services as outbox

from . import crypto
from .models import (
    Building,
    Dwelling,
    Establishment,
    Household,
    HouseholdTally,
    IdType,
    ImportJob,
    PersonalDataAccess,
    Resident,
    Status,
)
from .validators import normalize_mobile, normalize_other_id, normalize_uscc, parse_resident_id

if TYPE_CHECKING:
    from teams.models import User

MANAGE = "manage_registry"
REVEAL = "view_personal_data"
ID_COLUMN = "id_number"
PHONE_COLUMN = "phone"


# --- places and rights ----------------------------------------------------------------------------


def place_of(plot: GridNode) -> dict[str, int | None]:
    """The ancestor columns of a row in `plot` (one query for the ancestors)."""
    if plot.level != Level.PLOT:
        raise ValidationError({"plot": [_("Registry rows belong to a plot (the lowest grid level).")]})
    return scoping.ancestor_columns(plot)


def place_from(row: Any) -> dict[str, int | None]:
    """The ancestor columns copied from another registry row (a household for its residents)."""
    return {
        name: getattr(row, name) for name in ("tenant_id", "city_id", "township_id", "cell_id", "plot_id")
    }


def _require(actor: User, node: GridNode, perm: str = MANAGE) -> None:
    if not scoping.can_now(actor, perm, node):
        raise PermissionDenied(_("You may not change the registry of this grid."))


def _require_plot(actor: User, plot: GridNode) -> None:
    """For a target chosen by the actor: a plot outside their scope is a form error, like a missing one."""
    if plot.level != Level.PLOT or not scoping.can_now(actor, MANAGE, plot):
        raise ValidationError({"plot": [_("Choose a plot in your grid.")]})


def _stamp(obj: Any, actor: User | None, reason: str = "") -> None:
    """Who (and why) for the history row simple-history writes on save."""
    obj._history_user = actor
    if reason:
        obj._change_reason = reason[:100]


def _save(obj: Any, *, actor: User, reason: str = "", update_fields: list[str] | None = None) -> None:
    _stamp(obj, actor, reason)
    # Field checks only: uniqueness is the database's job (no check-then-write).
    obj.full_clean(
        exclude=["tenant", "city", "township", "cell", "plot", "household", "building", "dwelling"],
        validate_unique=False,
        validate_constraints=False,
    )
    if update_fields is None:
        obj.save()
    else:
        obj.save(update_fields=[*update_fields, "updated_at"])


@contextmanager
def _unique(error: dict[str, list[str]]) -> Iterator[None]:
    """An insert whose duplicate the database refuses becomes a form error, not a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ValidationError(error) from exc


# --- personal numbers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedId:
    enc: str
    hash: str
    masked: str
    sex: str
    birth_year: int | None


@dataclass(frozen=True)
class SealedPhone:
    enc: str
    hash: str
    masked: str


def id_parts(id_type: str, raw: str) -> tuple[str, str, int | None]:
    """A valid ID number's normalised form, sex and birth year (ValidationError when not valid)."""
    if id_type == IdType.RESIDENT_ID:
        parsed = parse_resident_id(raw)
        return parsed.number, parsed.sex, parsed.birth_date.year
    return normalize_other_id(raw), "", None


def id_number_hash(number: str) -> str:
    """The keyed hash of an already normalised ID number."""
    return crypto.blind_index(number, column=ID_COLUMN)


def id_hash(id_type: str, raw: str) -> str:
    """The keyed hash of a normalised ID number (raises ValidationError when it is not valid)."""
    return id_number_hash(id_parts(id_type, raw)[0])


def seal_id(
    id_type: str, raw: str, *, parts: tuple[str, str, int | None] | None = None, hash: str = ""
) -> SealedId:
    """The stored form of an ID number. An import passes the `parts` and `hash` it already worked out
    for the row, so each number is parsed and hashed once."""
    number, sex, year = parts or id_parts(id_type, raw)
    return SealedId(
        enc=crypto.encrypt(number, column=ID_COLUMN),
        hash=hash or id_number_hash(number),
        masked=crypto.mask_id(number),
        sex=sex,
        birth_year=year,
    )


def seal_phone(raw: str, *, hash: str = "") -> SealedPhone:
    if not (raw or "").strip():
        return SealedPhone("", "", "")
    number = normalize_mobile(raw)
    return SealedPhone(
        enc=crypto.encrypt(number, column=PHONE_COLUMN),
        hash=hash or crypto.blind_index(number, column=PHONE_COLUMN),
        masked=crypto.mask_phone(number),
    )


def phone_hash(raw: str) -> str:
    return crypto.blind_index(normalize_mobile(raw), column=PHONE_COLUMN)


def _apply_id(resident: Resident, sealed: SealedId, id_type: str) -> None:
    resident.id_type = id_type
    resident.id_number_enc, resident.id_number_hash, resident.id_number_masked = (
        sealed.enc,
        sealed.hash,
        sealed.masked,
    )
    resident.sex, resident.birth_year = sealed.sex, sealed.birth_year


def _apply_phone(obj: Any, sealed: SealedPhone, prefix: str = "phone") -> None:
    setattr(obj, f"{prefix}_enc", sealed.enc)
    setattr(obj, f"{prefix}_hash", sealed.hash)
    setattr(obj, f"{prefix}_masked", sealed.masked)


def _field_errors(**checks: Any) -> Any:
    """Run each (callable, value) and gather ValidationErrors by field name."""
    errors: dict[str, list[str]] = {}
    results = {}
    for name, (fn, value) in checks.items():
        try:
            results[name] = fn(value)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return results


# --- buildings and dwellings ----------------------------------------------------------------------


def building_create(
    *, actor: User, plot: GridNode, code: str, name: str, kind: str = "residential", floors: int | None = None
) -> Building:
    _require_plot(actor, plot)
    with transaction.atomic():
        building = Building(**place_of(plot), code=code.strip(), name=name, kind=kind, floors=floors)
        with _unique({"code": [_("This building code is already used in this city.")]}):
            _save(building, actor=actor)
    return building


def building_update(*, actor: User, building: Building, **changes: Any) -> Building:
    _require(actor, building.plot)
    allowed = {"name", "kind", "floors"}
    if set(changes) - allowed:
        raise ValueError(f"not editable here: {sorted(set(changes) - allowed)}")
    with transaction.atomic():
        for name, value in changes.items():
            setattr(building, name, value)
        _save(building, actor=actor, update_fields=list(changes))
    return building


def dwelling_create(*, actor: User, building: Building, number: str, use: str = "owner") -> Dwelling:
    _require(actor, building.plot)
    with transaction.atomic():
        dwelling = Dwelling(**place_from(building), building=building, number=number.strip(), use=use)
        with _unique({"number": [_("This building already has a dwelling with this number.")]}):
            _save(dwelling, actor=actor)
    return dwelling


# --- households -----------------------------------------------------------------------------------


def _check_dwelling(plot: GridNode, dwelling: Dwelling | None) -> None:
    if dwelling is not None and dwelling.plot_id != plot.pk:
        raise ValidationError({"dwelling": [_("The dwelling must stand in the household's plot.")]})


def _extent(tenant_id: int) -> Any:
    return Tenant.objects.filter(pk=tenant_id).values_list("extent", flat=True).first()


# --- household tallies (active households per plot, for the grid pages) --------------------------

PLACE = ("tenant_id", "city_id", "township_id", "cell_id", "plot_id")
Place = tuple[Any, ...]


def place_key(row: Any) -> Place:
    """A registry row's place as a tally key: (tenant, city, township, cell, plot) ids."""
    return tuple(getattr(row, name) for name in PLACE)


def tally_change(changes: dict[Place, int]) -> None:
    """Add to the active-household tallies of these plots, in the caller's transaction.

    One upsert per plot, in plot order (two writers lock shared plots in the same order); the
    increment is done by the database, so concurrent changes add up rather than overwrite.
    """
    table = connection.ops.quote_name(HouseholdTally._meta.db_table)
    rows = [(*key, delta) for key, delta in sorted(changes.items(), key=lambda kv: kv[0][4]) if delta]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (tenant_id, city_id, township_id, cell_id, plot_id, households) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (plot_id) "
            f"DO UPDATE SET households = {table}.households + EXCLUDED.households",
            rows,
        )


def tally_rebuild(tenant_id: int) -> int:
    """Recount a city's tallies from its households (after loads that bypass the services)."""
    with transaction.atomic():
        HouseholdTally.objects.filter(tenant_id=tenant_id).delete()
        rows = (
            Household.objects.filter(tenant_id=tenant_id, status=Status.ACTIVE)
            .values(*PLACE)
            .annotate(n=Count("id"))
            .order_by()
        )
        made = HouseholdTally.objects.bulk_create(
            [HouseholdTally(**{k: row[k] for k in PLACE}, households=row["n"]) for row in rows],
            batch_size=1000,
        )
    return len(made)


def _locked_household(household: Household) -> tuple[str, Place]:
    """The household's stored status and place, its row locked until the transaction ends."""
    fresh = Household.objects.select_for_update().only("status", *PLACE).get(pk=household.pk)
    return fresh.status, place_key(fresh)


def household_create(
    *,
    actor: User,
    plot: GridNode,
    number: str,
    address: str = "",
    dwelling: Dwelling | None = None,
    tags: int = 0,
    latitude: Any = None,
    longitude: Any = None,
) -> Household:
    """A household in a plot; its position (a phone's, at the door) is refused far outside the city."""
    _require_plot(actor, plot)
    _check_dwelling(plot, dwelling)
    lat, lng = geo.position_check(extent=_extent(plot.tenant_id), latitude=latitude, longitude=longitude)
    with transaction.atomic():
        household = Household(
            **place_of(plot),
            number=number.strip(),
            address=address,
            dwelling=dwelling,
            tags=tags,
            latitude=lat,
            longitude=lng,
        )
        with _unique({"number": [_("This household number is already used in this city.")]}):
            _save(household, actor=actor)
        tally_change({place_key(household): 1})
    return household


def household_update(*, actor: User, household: Household, **changes: Any) -> Household:
    """Change address, dwelling, tags or position (moving to another plot is `household_move`)."""
    _require(actor, household.plot)
    allowed = {"address", "dwelling", "tags", "latitude", "longitude"}
    if set(changes) - allowed:
        raise ValueError(f"not editable here: {sorted(set(changes) - allowed)}")
    if "dwelling" in changes:
        _check_dwelling(household.plot, changes["dwelling"])
    if "latitude" in changes or "longitude" in changes:
        changes["latitude"], changes["longitude"] = geo.position_check(
            extent=_extent(household.tenant_id),
            latitude=changes.get("latitude", household.latitude),
            longitude=changes.get("longitude", household.longitude),
        )
    with transaction.atomic():
        for name, value in changes.items():
            setattr(household, name, value)
        _save(household, actor=actor, update_fields=list(changes))
    return household


def household_move(*, actor: User, household: Household, plot: GridNode, reason: str = "") -> Household:
    """Move a household and its residents to another plot (both plots in the actor's scope)."""
    _require(actor, household.plot)
    _require_plot(actor, plot)
    if plot.tenant_id != household.tenant_id:
        raise ValidationError({"plot": [_("Choose a plot in your grid.")]})
    with transaction.atomic():
        status, before = _locked_household(household)
        place = place_of(plot)
        for name, value in place.items():
            setattr(household, name, value)
        household.dwelling = (
            None if household.dwelling_id and household.dwelling.plot_id != plot.pk else household.dwelling
        )
        _save(household, actor=actor, reason=reason or _("moved to %s") % plot.name)
        for resident in household.residents.select_for_update():
            for name, value in place.items():
                setattr(resident, name, value)
            _stamp(resident, actor, reason or _("moved with household"))
            resident.save(update_fields=[*place.keys(), "updated_at"])
        if status == Status.ACTIVE and before != place_key(household):
            tally_change({before: -1, place_key(household): 1})
    return household


def household_deregister(*, actor: User, household: Household, reason: str) -> Household:
    """Deregister a household and its active residents (rows stay, with their history)."""
    _require(actor, household.plot)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason.")]})
    with transaction.atomic():
        status, place = _locked_household(household)
        if status == Status.ACTIVE:
            tally_change({place: -1})
        household.status, household.deregistered_reason = Status.DEREGISTERED, reason
        _save(household, actor=actor, reason=reason, update_fields=["status", "deregistered_reason"])
        for resident in household.residents.filter(status=Status.ACTIVE).select_for_update():
            resident.status, resident.deregistered_reason = Status.DEREGISTERED, reason
            _stamp(resident, actor, reason)
            resident.save(update_fields=["status", "deregistered_reason", "updated_at"])
    return household


# --- residents ------------------------------------------------------------------------------------


def resident_create(
    *,
    actor: User,
    household: Household,
    name: str,
    id_number: str,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    population_type: str = "registered",
    relation: str = "other",
) -> Resident:
    _require(actor, household.plot)
    if household.status != Status.ACTIVE:
        raise ValidationError({"household": [_("The household is deregistered.")]})
    sealed = _field_errors(id_number=(lambda v: seal_id(id_type, v), id_number), phone=(seal_phone, phone))
    with transaction.atomic():
        resident = Resident(
            **place_from(household),
            household=household,
            name=name.strip(),
            population_type=population_type,
            relation=relation,
        )
        _apply_id(resident, sealed["id_number"], id_type)
        _apply_phone(resident, sealed["phone"])
        with _unique({"id_number": [_("A person with this ID number is already registered in this city.")]}):
            _save(resident, actor=actor)
    return resident


def resident_update(
    *,
    actor: User,
    resident: Resident,
    name: str | None = None,
    phone: str | None = None,
    population_type: str | None = None,
    relation: str | None = None,
    id_type: str | None = None,
    id_number: str | None = None,
) -> Resident:
    """Correct a resident's details; numbers left as None keep their stored values."""
    _require(actor, resident.plot)
    fields: list[str] = []
    checks: dict[str, Any] = {}
    if id_number:
        checks["id_number"] = (lambda v: seal_id(id_type or resident.id_type, v), id_number)
    if phone is not None:
        checks["phone"] = (seal_phone, phone)
    sealed = _field_errors(**checks) if checks else {}
    with transaction.atomic():
        for field, value in (("name", name), ("population_type", population_type), ("relation", relation)):
            if value is not None and getattr(resident, field) != value:
                setattr(resident, field, value.strip() if field == "name" else value)
                fields.append(field)
        if "id_number" in sealed and sealed["id_number"].hash != resident.id_number_hash:
            _apply_id(resident, sealed["id_number"], id_type or resident.id_type)
            fields += ["id_type", "id_number_enc", "id_number_hash", "id_number_masked", "sex", "birth_year"]
        if "phone" in sealed and sealed["phone"].hash != resident.phone_hash:
            _apply_phone(resident, sealed["phone"])
            fields += ["phone_enc", "phone_hash", "phone_masked"]
        if not fields:
            return resident
        with _unique({"id_number": [_("A person with this ID number is already registered in this city.")]}):
            _save(resident, actor=actor, update_fields=fields)
    return resident


def resident_move(*, actor: User, resident: Resident, household: Household, reason: str = "") -> Resident:
    """Move a person to another household (possibly in another plot of the actor's scope)."""
    _require(actor, resident.plot)
    _require(actor, household.plot)
    if household.tenant_id != resident.tenant_id or household.status != Status.ACTIVE:
        raise ValidationError({"household": [_("Choose an active household in your grid.")]})
    with transaction.atomic():
        place = place_from(household)
        for name, value in place.items():
            setattr(resident, name, value)
        resident.household = household
        _save(resident, actor=actor, reason=reason or _("moved to household %s") % household.number)
    return resident


def resident_deregister(*, actor: User, resident: Resident, reason: str) -> Resident:
    _require(actor, resident.plot)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason.")]})
    with transaction.atomic():
        resident.status, resident.deregistered_reason = Status.DEREGISTERED, reason
        _save(resident, actor=actor, reason=reason, update_fields=["status", "deregistered_reason"])
    return resident


@dataclass(frozen=True)
class Revealed:
    id_number: str
    phone: str


def personal_data_reveal(*, actor: User, resident: Resident, reason: str) -> Revealed:
    """One resident's numbers in clear, for an actor holding `view_personal_data` there, with a reason.

    The access is logged first, in the same transaction: no log row, no numbers.
    """
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": [_("Say why you need these numbers (at least 4 characters).")]})
    if not scoping.can_now(actor, REVEAL, resident.plot):
        raise PermissionDenied(_("You may not see personal numbers in this grid."))
    with transaction.atomic():
        PersonalDataAccess.objects.create(
            **place_from(resident),
            actor=actor,
            resident=resident,
            fields="id_number,phone",
            reason=reason[:200],
        )
        return Revealed(
            id_number=crypto.decrypt(resident.id_number_enc, column=ID_COLUMN),
            phone=crypto.decrypt(resident.phone_enc, column=PHONE_COLUMN) if resident.phone_enc else "",
        )


# --- establishments -------------------------------------------------------------------------------


def establishment_create(
    *,
    actor: User,
    plot: GridNode,
    credit_code: str,
    name: str,
    kind: str = "enterprise",
    address: str = "",
    building: Building | None = None,
    staff_count: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
) -> Establishment:
    _require_plot(actor, plot)
    checked = _field_errors(
        credit_code=(normalize_uscc, credit_code), contact_phone=(seal_phone, contact_phone)
    )
    if building is not None and building.plot_id != plot.pk:
        raise ValidationError({"building": [_("The building must stand in the establishment's plot.")]})
    with transaction.atomic():
        est = Establishment(
            **place_of(plot),
            credit_code=checked["credit_code"],
            name=name.strip(),
            kind=kind,
            address=address,
            building=building,
            staff_count=staff_count,
            contact_name=contact_name,
        )
        _apply_phone(est, checked["contact_phone"], "contact_phone")
        with _unique(
            {"credit_code": [_("An establishment with this credit code is already registered in this city.")]}
        ):
            _save(est, actor=actor)
    return est


def establishment_update(*, actor: User, establishment: Establishment, **changes: Any) -> Establishment:
    _require(actor, establishment.plot)
    allowed = {"name", "kind", "address", "staff_count", "contact_name", "contact_phone"}
    if set(changes) - allowed:
        raise ValueError(f"not editable here: {sorted(set(changes) - allowed)}")
    fields = [k for k in changes if k != "contact_phone"]
    with transaction.atomic():
        if "contact_phone" in changes:
            sealed = _field_errors(contact_phone=(seal_phone, changes.pop("contact_phone")))["contact_phone"]
            _apply_phone(establishment, sealed, "contact_phone")
            fields += ["contact_phone_enc", "contact_phone_hash", "contact_phone_masked"]
        for name, value in changes.items():
            setattr(establishment, name, value)
        _save(establishment, actor=actor, update_fields=fields)
    return establishment


def establishment_deregister(*, actor: User, establishment: Establishment, reason: str) -> Establishment:
    _require(actor, establishment.plot)
    with transaction.atomic():
        establishment.status = Status.DEREGISTERED
        _save(establishment, actor=actor, reason=reason, update_fields=["status"])
    return establishment


# --- imports --------------------------------------------------------------------------------------


def import_start(*, actor: User, kind: str, upload: UploadedFile) -> ImportJob:
    """Check the workbook's shape now (so a wrong file is refused at once and nothing is stored), store
    it, record the job and enqueue the import once the job row is committed."""
    from . import importing, tasks

    if actor.tenant_id is None:
        raise PermissionDenied(_("Imports are made by a city's users."))
    if not scoping.grants(actor, MANAGE):
        raise PermissionDenied(_("You may not change the registry."))
    importing.check_upload(upload, kind)
    with transaction.atomic():
        job = ImportJob.objects.create(
            tenant_id=actor.tenant_id, actor=actor, kind=kind, original_name=(upload.name or "")[-255:]
        )
        job.source = importing.store_upload(job, upload)
        job.save(update_fields=["source"])
        # Queued with the job row: a down broker leaves it for the outbox relay, not "queued" forever.
        outbox.enqueue(task=tasks.registry_import, key=f"registry.import:{job.pk}", args=[job.pk])
    return job


def import_files_purge(*, days: int = 7) -> int:
    """Delete refused-row files older than `days` (they hold the numbers the uploader typed) and mark
    imports stuck for a day as failed. Returns how many jobs changed; running it twice changes nothing."""
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from .models import ImportStatus

    now = timezone.now()
    changed = 0
    old = ImportJob.objects.exclude(refused_file="").filter(
        finished_at__lt=now - timezone.timedelta(days=days)
    )
    for job in old.iterator():
        default_storage.delete(job.refused_file)
        job.refused_file = ""
        job.save(update_fields=["refused_file"])
        changed += 1
    stuck = ImportJob.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING],
        created_at__lt=now - timezone.timedelta(days=1),
    )
    for job in stuck.iterator():
        if job.source:
            default_storage.delete(job.source)
        job.status, job.message, job.finished_at = (
            ImportStatus.FAILED,
            _("The import was interrupted; upload the file again."),
            now,
        )
        job.save(update_fields=["status", "message", "finished_at"])
        changed += 1
    return changed


def personal_data_rekey(*, batch_size: int = 1000) -> int:
    """Re-encrypt numbers stored under an older key or cipher with the current one (after a rotation),
    batch by batch. Reading never needs it (old keys still decrypt); it lets an old key be retired.
    The numbers do not change, so no history row is written. Returns how many rows were rewritten;
    a second run finds nothing to do."""
    from django.db.models import Q

    prefix = crypto.provider().current_prefix()
    columns = {
        Resident: (("id_number_enc", ID_COLUMN), ("phone_enc", PHONE_COLUMN)),
        Establishment: (("contact_phone_enc", PHONE_COLUMN),),
    }
    done = 0
    for model, fields in columns.items():
        stale = Q()
        for field, _column in fields:
            stale |= ~Q(**{f"{field}__startswith": prefix}) & ~Q(**{field: ""})
        while True:
            with transaction.atomic():
                rows = list(model.objects.select_for_update().filter(stale).order_by("pk")[:batch_size])
                if not rows:
                    break
                for row in rows:
                    for field, column in fields:
                        token = getattr(row, field)
                        if token and not token.startswith(prefix):
                            setattr(
                                row,
                                field,
                                crypto.encrypt(crypto.decrypt(token, column=column), column=column),
                            )
                model.objects.bulk_update(rows, [f for f, _c in fields], batch_size=batch_size)
                done += len(rows)
    return done
