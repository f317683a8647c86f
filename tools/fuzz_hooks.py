"""Schemathesis hooks for `charter fuzz`, loaded in its schemathesis process (SCHEMATHESIS_HOOKS).

An Idempotency-Key names one intended change: the contract is that a client makes a new one for
each (a UUID, say), and a key sent again with a different request answers 422
`idempotency_key_reused`, as it should. Generated values repeat across different requests all
the time ("0", the longest string the pattern allows), which would make those 422s the fuzzer's
own doing. So a well-formed generated key gets a suffix unique to this run and request before
it is sent, within the 255 characters allowed; a malformed one goes as generated, and is refused
with 400 by validation.
"""

from __future__ import annotations

import itertools
import re
import uuid

import requests.auth
import schemathesis

KEY = "idempotency-key"
MAX = 255
_WELL_FORMED = re.compile(r"[!-~](?:[ -~]*[!-~])?")
_run = uuid.uuid4().hex[:8]
_sent = itertools.count()


def unique(value: str) -> str:
    suffix = f"-{_run}{next(_sent):08d}"
    return value[: MAX - len(suffix)] + suffix


class _FreshKey(requests.auth.AuthBase):
    """Rewrites the key on the request as it goes out. The case itself is left as generated:
    schemathesis re-derives what a case tests from any edit made to it."""

    def __call__(self, request):
        for name, value in list(request.headers.items()):
            if name.lower() == KEY and isinstance(value, str) and len(value) <= MAX and _WELL_FORMED.fullmatch(value):
                request.headers[name] = unique(value)
        return request


@schemathesis.hook
def before_call(ctx, case, kwargs) -> None:
    if case.headers and any(name.lower() == KEY for name in case.headers):
        kwargs.setdefault("auth", _FreshKey())
