"""Synthetic people for tests, the demo and benchmarks: valid check digits, never a real person.

ID numbers use the address code prefix 99 (no province has it), so a synthetic ID can never be a real
resident's; mobile numbers sit in 1990xxxxxxx; credit codes use registration authority 9 (industry and
commerce) with a counter as the body. All deterministic: the same n gives the same number.
"""

from __future__ import annotations

import datetime as dt

from .validators import USCC_CHARSET, id_check_char, uscc_check_char

SYNTHETIC_REGION = "990381"


def resident_id(
    n: int, *, birth: dt.date | None = None, sex: str | None = None, region: str = SYNTHETIC_REGION
) -> str:
    """The n-th synthetic ID number (distinct for distinct n below 328,500)."""
    if birth is None:
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=(n * 7919) % (365 * 90))
    seq = n % 500
    sex = sex or ("M" if n % 2 else "F")
    digit = 2 * (seq % 5) + (1 if sex == "M" else 0)
    serial = f"{(seq // 5) % 100:02d}{digit}"
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return first17 + id_check_char(first17)


def mobile(n: int) -> str:
    return f"1990{n % 10_000_000:07d}"


def credit_code(n: int, region: str = "330381") -> str:
    body = "".join(USCC_CHARSET[(n // 31**i) % 31] for i in range(9))
    first17 = f"91{region}{body}"
    return first17 + uscc_check_char(first17)
