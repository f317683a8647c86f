"""Idempotency-Key: a state-changing POST that is safe to retry (Stripe's semantics, the IETF
httpapi Idempotency-Key draft).

An operation takes part when its spec declares the shared `Idempotency-Key` header parameter
(`charter check` fails a POST that neither declares it nor is marked `x-idempotency-exempt`).
A request that carries the header:

- is scoped to the caller's tenant, or to the platform for a caller bound to none: the same key
  in two scopes is two requests;
- has a fingerprint: method, path and query, the body (parsed, keys sorted) and who calls;
- runs inside store.exclusive(): its handler's reads and writes join one transaction, and its
  answer (status, headers, body) is kept, sealed (charter.sealing), in that same transaction,
  for CHARTER_IDEMPOTENCY_WINDOW_S. A crash before the commit leaves neither the change nor
  the answer, so a retry runs again.

Then the same key with the same fingerprint answers what was kept, with `Idempotent-Replayed:
true`; with another fingerprint, 422 idempotency_key_reused; while a request with the key is
still running, 409 idempotency_key_in_progress. Not kept: an answer refused before the handler
ran (credentials, validation) and any 5xx, whose transaction rolls back; the key stays free.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from charter import domain, errors, runtime
from charter.sealing import Sealer

HEADER = "Idempotency-Key"
HEADER_KEY = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")
EXEMPT = "x-idempotency-exempt"  # on an operation: why it takes no key (a non-empty string)
PLATFORM = "platform"
REUSED = "idempotency_key_reused"
IN_PROGRESS = "idempotency_key_in_progress"
_UNKEPT_HEADERS = frozenset({b"content-length"})  # written again for every answer

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Headers
    body: bytes

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "status": self.status,
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers],
                "body": base64.b64encode(self.body).decode(),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Answer:
        kept = orjson.loads(data)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept["headers"]]
        return cls(kept["status"], headers, base64.b64decode(kept["body"]))


def takes_key(operation: dict) -> bool:
    """Whether an operation (resolved) declares the Idempotency-Key header."""
    return any(
        p.get("in") == "header" and str(p.get("name", "")).lower() == HEADER_KEY.decode()
        for p in operation.get("parameters") or ()
    )


def fingerprint(method: str, path: str, query: bytes, body: Any, actor: domain.Actor) -> str:
    """What makes two requests with one key the same request."""
    digest = hashlib.sha256()
    for part in (method.upper(), path, query.decode("latin-1"), actor.kind, actor.id or ""):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(_canonical(body))
    return digest.hexdigest()


def _canonical(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")


class ExclusiveStore(Protocol):
    def exclusive(self, lock: int) -> Any: ...


class Keeper:
    """Runs keyed requests over one store, keeping their answers for `window_s` seconds.
    `record` makes the store's record of a kept answer (store.models.KeptAnswer: the spine does
    not import the store) from (scope, key_hash, fingerprint, sealed, created_at, expires_at)."""

    def __init__(self, store: ExclusiveStore, sealer: Sealer, window_s: int, record: Callable[..., Any]) -> None:
        self._store = store
        self._sealer = sealer
        self._window = timedelta(seconds=window_s)
        self._record = record

    def run(self, key: str, fingerprint: str, call: Callable[[], Answer]) -> Answer:
        """The answer for a keyed request: call()'s, kept, or a kept one replayed."""
        scope = _scope(runtime.actor())
        hashed = key_hash(key)
        where = f"{scope}\0{hashed}".encode()
        try:
            with self._store.exclusive(lock_of(where)) as s:
                now = datetime.now(UTC)
                kept = s.kept_answers.get(scope, hashed, now)
                if kept is not None:
                    if kept.fingerprint != fingerprint:
                        return _error(422, REUSED, "This Idempotency-Key was used with a different request.")
                    answer = Answer.from_bytes(self._sealer.open(kept.sealed, where))
                    return Answer(answer.status, [*answer.headers, REPLAYED], answer.body)
                answer = call()
                if answer.status >= 500:
                    raise _NotKept(answer)
                sealed = self._sealer.seal(answer.to_bytes(), where)
                s.kept_answers.put(self._record(scope, hashed, fingerprint, sealed, now, now + self._window))
                return answer
        except domain.Busy:
            return _error(409, IN_PROGRESS, "A request with this Idempotency-Key is still running; retry shortly.")
        except _NotKept as failed:
            return failed.answer


class _NotKept(Exception):
    """A 5xx answer: its transaction rolls back, and the key stays free."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


def handled(call: Callable[[], Answer]) -> Answer:
    """call()'s answer, or the answer a 4xx error it raises gets; anything else propagates."""
    try:
        return call()
    except Exception as exc:
        found = errors.rendered(exc)
        if found is None:
            raise
        status, headers, body = found
        return Answer(status, _headers(headers) + [(b"content-type", b"application/json")], body)


def kept_headers(headers: Headers) -> Headers:
    return [(k, v) for k, v in headers if k not in _UNKEPT_HEADERS]


def _headers(headers: dict) -> Headers:
    return [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, [(b"content-type", b"application/json")], errors.body(status, message, code))


def _scope(actor: domain.Actor) -> str:
    return str(actor.tenant_id) if actor.tenant_id is not None else PLATFORM


def key_hash(key: str) -> str:
    """How a key is kept: its SHA-256, in hex."""
    return hashlib.sha256(key.encode("latin-1")).hexdigest()


def lock_of(where: bytes) -> int:
    """The 62-bit lock of a key in its scope, `scope NUL key_hash` (a PostgreSQL advisory lock,
    a byte offset in SQLite's lock file)."""
    return int.from_bytes(hashlib.sha256(where).digest()[:8], "big") >> 2
