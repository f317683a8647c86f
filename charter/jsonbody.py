"""Request JSON, read strictly, so that no body can make the server fail or keep what it cannot.

- At most `max_depth` levels of arrays and objects (CHARTER_MAX_JSON_DEPTH, 64): checked on the
  text before anything parses it, so nothing recurses on a hostile body.
- Numbers every store keeps faithfully: finite ones. `NaN`, `Infinity` and `-Infinity` (which
  Python reads but JSON does not have) are refused, as is `1e400` (which would become infinity),
  and an integer of more digits than Python reads (4300). Integers beyond 64 bits are kept
  exactly by every store (the SQL stores keep free-form JSON as text); where a field is 64 bits,
  its schema says so (`format: int64`, checked by charter.formats).
- Anything else JSON allows is read as Python's json module reads it.

Every refusal is Refused, whose message says what was wrong; the caller answers 400.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

DEFAULT_MAX_DEPTH = 64

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class Refused(ValueError):
    """The body is not JSON this server accepts; str() says why."""


def too_deep(text: str, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than max_depth anywhere in the text (brackets inside
    strings do not count)."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(_STEP[c] for c in brackets), default=0) > max_depth


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        raise Refused(f"an integer of {len(text)} digits is too long") from None


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refused(f"{text} is too large a number")
    return value


def _constant(name: str) -> Any:
    raise Refused(f"{name} is not a JSON number")


def loads(text: str, max_depth: int | None = None) -> Any:
    """The JSON value of `text`; Refused for what this module refuses and for malformed JSON."""
    if max_depth is not None and too_deep(text, max_depth):
        raise Refused(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except Refused:
        raise
    except RecursionError:
        raise Refused("JSON nested too deep") from None
    except ValueError as exc:  # malformed JSON (JSONDecodeError) among them
        raise Refused(str(exc)) from None
