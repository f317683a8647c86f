"""The health of every dependency: each check timed, and what it found or why it failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.context import Auth
from charter.domain import Unavailable
from store.interface import Store


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    latency_ms: float | None = None


def _timed(probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()
    except Unavailable as exc:
        return Check(False, str(exc))
    return Check(True, detail, round((time.perf_counter() - started) * 1000, 3))


def ready(uow: Store) -> None:
    """Unavailable when the store cannot be reached."""
    uow.ping()


def checks(uow: Store, auth: Auth) -> dict[str, Check]:
    """`store`: one round trip to it; `signing_keys`: how many verification keys are published."""

    def store() -> str:
        uow.ping()
        return str(getattr(uow, "dialect", "memory"))

    def signing_keys() -> str:
        return f"{len(auth.tokens.keyring.published())} published"

    return {"store": _timed(store), "signing_keys": _timed(signing_keys)}
