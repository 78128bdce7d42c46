"""Every read of the registry: scoped through `grids.scoping`, carrying its select_related, so no
caller filters by hand or runs a query per row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from grids import scoping
from grids.models import GridNode, Level

from .models import (
    Building,
    Dwelling,
    Establishment,
    Household,
    ImportJob,
    PersonalDataAccess,
    Resident,
    Status,
    age_band_expression,
)
from .services import id_hash, phone_hash
from .validators import compatible_text

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

    Actor = User | AnonymousUser

VIEW = "view_gridnode"
MANAGE = "manage_registry"
_ID_LIKE = re.compile(r"^[\dXx\s-]{15,22}$", re.ASCII)
_PHONE_LIKE = re.compile(r"^\+?[\d\s-]{11,16}$", re.ASCII)
_DOC_LIKE = re.compile(r"^(?=.*\d)[0-9A-Za-z]{5,20}$", re.ASCII)


def plots_for(actor: Actor, perm: str = VIEW) -> QuerySet[GridNode]:
    return (
        scoping.scope_nodes(actor, perm)
        .filter(level=Level.PLOT)
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


PICK_LIMIT = 20


def resident_pick(actor: Actor, text: str) -> list[Resident]:
    """Up to PICK_LIMIT active residents in the actor's view whose name starts with `text` (one query
    on the (tenant, name) index, after the cached grants)."""
    text = text.strip()[:50]
    if not text:
        return []
    qs = scoping.scope_rows(
        actor, VIEW, Resident.objects.select_related("household", "plot").filter(status=Status.ACTIVE)
    )
    return list(qs.filter(name__startswith=text).order_by("name", "id")[:PICK_LIMIT])


def buildings_for(actor: Actor, perm: str = VIEW) -> QuerySet[Building]:
    return scoping.scope_rows(actor, perm, Building.objects.select_related("plot", "cell"))


def dwellings_for(actor: Actor, perm: str = VIEW) -> QuerySet[Dwelling]:
    return scoping.scope_rows(actor, perm, Dwelling.objects.select_related("building", "plot"))


def households_for(actor: Actor, perm: str = VIEW) -> QuerySet[Household]:
    # A correlated subquery rather than JOIN + GROUP BY: a page computes it for its own rows only, and
    # the paginator's COUNT(*) drops it altogether.
    active = (
        Resident.objects.filter(household=OuterRef("pk"), status=Status.ACTIVE)
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = Household.objects.select_related("plot", "cell", "dwelling__building").annotate(
        resident_count=Coalesce(Subquery(active), 0)
    )
    return scoping.scope_rows(actor, perm, qs)


def residents_for(actor: Actor, perm: str = VIEW) -> QuerySet[Resident]:
    qs = Resident.objects.select_related("household", "plot", "cell").annotate(age_band=age_band_expression())
    return scoping.scope_rows(actor, perm, qs)


def establishments_for(actor: Actor, perm: str = VIEW) -> QuerySet[Establishment]:
    return scoping.scope_rows(actor, perm, Establishment.objects.select_related("plot", "building"))


def access_log_for(actor: Actor) -> QuerySet[PersonalDataAccess]:
    """The reveal log, read by those who manage the grid above it (the city reads all of its own)."""
    return scoping.scope_rows(
        actor, "manage_grid", PersonalDataAccess.objects.select_related("actor", "resident", "plot")
    )


def import_jobs_for(actor: Actor) -> QuerySet[ImportJob]:
    """An uploader's own imports (their refused-row files carry the numbers they uploaded)."""
    if not actor.is_authenticated or actor.tenant_id is None:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(tenant_id=actor.tenant_id, actor_id=actor.pk)


def search_residents(actor: Actor, text: str, perm: str = VIEW) -> QuerySet[Resident]:
    """Residents in scope matching a name, an address, a phone or an ID number.

    A number is matched on its keyed hash (exact), never by decrypting the table.
    """
    text = (text or "").strip()
    qs = residents_for(actor, perm)
    if not text:
        return qs.none()
    # Numbers are recognised as they will be hashed: full-width digits and pasted invisible
    # characters do not hide an ID number or a phone from the search.
    number = compatible_text(text)
    if _ID_LIKE.match(number):
        for id_type in ("resident_id", "other"):
            try:
                return qs.filter(id_number_hash=id_hash(id_type, number))
            except ValidationError:
                continue
        return qs.none()
    if _PHONE_LIKE.match(number):
        try:
            return qs.filter(phone_hash=phone_hash(number))
        except ValidationError:
            return qs.none()
    by_text = Q(name__icontains=text) | Q(household__address__icontains=text)
    if _DOC_LIKE.match(number):  # perhaps a passport or other document number (5 to 20 letters and digits)
        by_text |= Q(id_number_hash=id_hash("other", number))
    return qs.filter(by_text)


def household_counts(
    actor: Actor, level: int = Level.TOWNSHIP, within: Sequence[int] | None = None
) -> dict[int, int]:
    """Active households per grid node of `level` in scope: one aggregate query.

    `within` limits it to those nodes (a page's plots), so a page counts its own rows only.
    """
    column = scoping.LEVEL_COLUMN[Level(level)]
    qs = Household.objects.filter(status=Status.ACTIVE)
    if within is not None:
        qs = qs.filter(**{f"{column}__in": list(within)})
    rows = scoping.scope_rows(actor, VIEW, qs).values(column).annotate(n=Count("id")).order_by()
    return {row[column]: row["n"] for row in rows}


def history_of(row: Household | Resident | Building | Establishment, limit: int = 20) -> QuerySet:
    """The latest versions of one row (already fetched through a scoped selector), with who changed it."""
    return row.history.select_related("history_user").order_by("-history_date")[:limit]  # type: ignore[union-attr]
