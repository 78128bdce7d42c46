"""Positions taken in the field (a phone's geolocation): a point as latitude and longitude in degrees.

A position is kept only inside the city: its extent (`Tenant.extent`, a GeoJSON bbox
[west, south, east, north]) widened by a margin for GPS error and border villages, or, for a city
whose extent is not recorded, within China's bounds. A point far away is a mistake (a phone still
on a cached fix, swapped coordinates) and is refused with a message, nothing stored.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MARGIN_DEGREES = Decimal("0.05")  # about 5 km
CHINA = (Decimal("73.4"), Decimal("3.8"), Decimal("135.1"), Decimal("53.6"))
QUANTUM = Decimal("0.000001")


def _degrees(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"latitude": [_("A position is two numbers in degrees.")]}) from None
    if not number.is_finite():
        raise ValidationError({"latitude": [_("A position is two numbers in degrees.")]})
    return number.quantize(QUANTUM)


def extent_of(extent: Any) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    if not (isinstance(extent, list | tuple) and len(extent) == 4):
        return None
    try:
        west, south, east, north = (Decimal(str(v)) for v in extent)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return (west, south, east, north) if west < east and south < north else None


def position_check(*, extent: Any, latitude: Any, longitude: Any) -> tuple[Decimal | None, Decimal | None]:
    """The position rounded to 6 decimals (about 0.1 m), or (None, None) when none was given.

    Raises ValidationError (on `latitude`) for half a position, a non-number, or a point outside the city.
    """
    lat, lng = _degrees(latitude), _degrees(longitude)
    if lat is None and lng is None:
        return None, None
    if lat is None or lng is None:
        raise ValidationError({"latitude": [_("Give both latitude and longitude, or neither.")]})
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"latitude": [_("A position is two numbers in degrees.")]})
    bounds = extent_of(extent)
    if bounds is None:
        west, south, east, north = CHINA
    else:
        west, south, east, north = (
            bounds[0] - MARGIN_DEGREES,
            bounds[1] - MARGIN_DEGREES,
            bounds[2] + MARGIN_DEGREES,
            bounds[3] + MARGIN_DEGREES,
        )
    if not (west <= lng <= east and south <= lat <= north):
        raise ValidationError(
            {
                "latitude": [
                    _(
                        "This position (%(lat)s, %(lng)s) is far outside the city; "
                        "take the position again where the case is."
                    )
                    % {"lat": lat, "lng": lng}
                ]
            }
        )
    return lat, lng
