r"""String formats and patterns the specs use, checked strictly at the edge.

Connexion validates with Draft 4, which knows neither `uuid` nor `date`, and does not bound
`int64`. A value the store cannot hold must be a 400 here, never a 500 later.

`pattern` is an ECMA-262 regular expression, whose `$` matches only at the end of the text;
Python's `$` also matches before a final newline, which would let "acme\n" pass a slug pattern.
Patterns are run with such anchors as `\Z`, and with ECMA-262's `\d`, `\w` and `\s`.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime

from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from jsonschema import Draft4Validator, ValidationError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
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


def format_date_time(value: datetime) -> str:
    """A timestamp as the RFC 3339 text the specs use: UTC written as Z."""
    return value.isoformat().replace("+00:00", "Z")


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
        found = re.match(r"\d+", rest)
        digits = found.group(0) if found else ""
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if parsed.year < 5000 else datetime.max
        return edge.replace(tzinfo=UTC)


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


# ECMA-262's classes (JSON Schema patterns are ECMA-262): ASCII digits and word characters, and
# its own whitespace. Python's \d and \w are Unicode-wide, and its \s also takes \x1c-\x1f and \x85.
_ECMA_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ECMA_CLASSES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACE}


@functools.lru_cache(maxsize=1024)
def ecma_pattern(pattern: str) -> re.Pattern:
    r"""Compile a JSON Schema pattern with ECMA-262's meaning: each `$` anchor (outside a character
    class) as `\Z`, and `\d`, `\w`, `\s` and their negations as ECMA-262's classes (a negated one
    inside a character class keeps Python's meaning: there is no way to say it there)."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            escape = pattern[i + 1 : i + 2]
            members = _ECMA_CLASSES.get(escape.lower())
            if members is not None and not in_class:
                out.append(f"[{'^' if escape.isupper() else ''}{members}]")
            elif members is not None and escape.islower():
                out.append(members)
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # a leading "]" is a member, not the end
                out.append("[]")
                i += 2
                continue
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return re.compile("".join(out))


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def install() -> None:
    checker = Draft4Validator.FORMAT_CHECKER
    for name, func in (("uuid", is_uuid), ("date", is_date), ("date-time", is_date_time), ("int64", is_int64)):
        checker.checkers[name] = (func, ())
    for cls in (Draft4Validator, Draft4RequestValidator, Draft4ResponseValidator):
        cls.VALIDATORS["pattern"] = _pattern
