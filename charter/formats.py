"""String formats the specs use, checked strictly at the edge.

Connexion validates with Draft 4, which knows neither `uuid` nor `date`, and does not bound
`int64`. A value the store cannot hold must be a 400 here, never a 500 later.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from jsonschema import Draft4Validator

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
INT64 = (-(2**63), 2**63 - 1)


def is_uuid(value) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


def is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse_date_time(value: str) -> datetime:
    """RFC 3339 date-time to an aware UTC datetime; ValueError when it is not one.

    An instant whose UTC form falls outside years 1 to 9999 (0001-01-01T00:30:00+01:00, say)
    is clamped to the nearest representable one; as a filter bound it selects the same events.
    """
    if not _DATE_TIME.match(value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    text = value.upper().replace(" ", "T").replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python keeps microseconds only
        digits = re.match(r"\d+", rest).group(0)
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    parsed = datetime.fromisoformat(text)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        edge = datetime.min if parsed.year < 5000 else datetime.max
        return edge.replace(tzinfo=timezone.utc)


def is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parse_date_time(value)
    except (ValueError, OverflowError):
        return False
    return True


def is_int64(value) -> bool:
    return not isinstance(value, int) or INT64[0] <= value <= INT64[1]


def install() -> None:
    checker = Draft4Validator.FORMAT_CHECKER
    for name, func in (("uuid", is_uuid), ("date", is_date), ("date-time", is_date_time), ("int64", is_int64)):
        checker.checkers[name] = (func, ())
