"""Synthetic residents for the demo city: a few per household, with valid (never real) numbers.

For `seed_demo`: `residents_seed(households=..., start=...)` after the households exist. Idempotent
when re-run with the same households and start: existing ID hashes are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from . import bulk, services
from .models import Household, PopulationType, Relation, Resident
from .synthetic import mobile, resident_id

SURNAMES = "林陈王张李黄周吴郑金蔡杨胡徐朱潘"
GIVEN = ["建国", "秀英", "志强", "丽华", "海波", "小红", "晓东", "玉兰", "国平", "美玲", "子涵", "一诺"]


def residents_seed(*, households: Sequence[Household], start: int = 0, per_household: int = 3) -> int:
    """Create `per_household` residents in each household (numbers from `start` on, distinct below
    328,500); returns how many were created."""
    planned: list[Resident] = []
    n = start
    for household in households:
        surname = SURNAMES[household.pk % len(SURNAMES)]
        for k in range(per_household):
            n += 1
            sealed = services.seal_id("resident_id", resident_id(n))
            person = Resident(
                **services.place_from(household),
                household_id=household.pk,
                name=surname + GIVEN[n % len(GIVEN)],
                relation=(Relation.HEAD, Relation.SPOUSE, Relation.CHILD)[k % 3],
                population_type=PopulationType.MIGRANT if n % 9 == 0 else PopulationType.REGISTERED,
            )
            services._apply_id(person, sealed, "resident_id")  # noqa: SLF001 - same package
            services._apply_phone(person, services.seal_phone(mobile(n)))  # noqa: SLF001
            planned.append(person)
    hashes = [p.id_number_hash for p in planned]
    with transaction.atomic():
        existing = set(
            Resident.objects.filter(id_number_hash__in=hashes).values_list("id_number_hash", flat=True)
        )
        fresh = [p for p in planned if p.id_number_hash not in existing]
        bulk.create_with_history(Resident, fresh, user=None, reason="demo")
    return len(fresh)
