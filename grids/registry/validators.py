"""Checks for the numbers the registry keeps: resident ID (GB 11643), mainland mobile, unified social
credit code (GB 32100). Error messages never repeat the number they refuse (they end up in refused-row
files and logs).

Every number is first put through `normalize_identifier` (here, so forms, the API, imports and search
all get it): text typed with a Chinese input method arrives with full-width digits, letters, spaces
and dashes, sometimes with invisible characters pasted along; stored or hashed as typed, the same
person would be registered twice and a search would not find them."""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212－]")
# Format characters that show as nothing: zero-width space and joiners, direction marks, word joiner,
# soft hyphen, byte-order mark.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def compatible_text(value: object) -> str:
    """NFKC (full-width "３３０３８１ｘ" becomes "330381x", the ideographic space a space) without
    invisible characters, trimmed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value or ""))).strip()


def normalize_identifier(value: object) -> str:
    """A number as the registry stores and hashes it: `compatible_text`, spaces and dashes dropped,
    letters upper-cased (x becomes X)."""
    if value.__class__ is str and value.isascii() and value.isalnum():
        return value.upper()  # plain ASCII letters and digits: NFKC and the rest leave them as they are
    return _SEPARATORS.sub("", compatible_text(value)).upper()


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def id_check_char(first17: str) -> str:
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError("an ID number's check character is computed from its first 17 characters")
    return ID_CHECK[sum(map(operator.mul, map(int, first17), ID_WEIGHTS)) % 11]


def parse_resident_id(value: str, *, today: dt.date | None = None) -> ResidentId:
    """The normalised 18-character resident ID with its birth date and sex, or a ValidationError."""
    number = normalize_identifier(value)
    if not _ID_RE.match(number):
        raise ValidationError(
            _("A resident ID number is 17 digits followed by a digit or X."), code="id_format"
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside the ID number is not a real date."), code="id_birth"
        ) from None
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date, time zone irrelevant at this precision
    if birth.year < 1900 or birth > today:
        raise ValidationError(_("The birth date inside the ID number is out of range."), code="id_birth")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="id_check")
    return ResidentId(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def normalize_mobile(value: str) -> str:
    """An 11-digit mainland mobile number (a +86/0086 prefix and separators are dropped)."""
    number = normalize_identifier(value)
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == 11 + len(prefix):
            number = number[len(prefix) :]
            break
    if not _MOBILE_RE.match(number):
        raise ValidationError(
            _("A mainland mobile number is 11 digits starting with 13 to 19."), code="mobile"
        )
    return number


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """An 18-character unified social credit code with a correct check character."""
    code = normalize_identifier(value)
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        raise ValidationError(
            _(
                "A unified social credit code is 18 characters: digits and capital letters except I, O, S, V, Z."
            ),
            code="uscc_format",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The unified social credit code's check character is wrong."), code="uscc_check"
        )
    return code


def normalize_other_id(value: str) -> str:
    """A passport or other document number: 5 to 20 letters and digits."""
    number = normalize_identifier(value)
    if not re.fullmatch(r"[0-9A-Z]{5,20}", number):
        raise ValidationError(_("A document number is 5 to 20 letters and digits."), code="doc_format")
    return number
