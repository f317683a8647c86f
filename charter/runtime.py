"""What a handler may reach besides its arguments: the app's services, the caller, the principal.

The request middleware binds the services and the caller for every request; the security
middleware binds the principal (who the credentials stand for) on every operation that is not
public. Handlers stay plain functions, and several apps (one per store, as in the tests) can live
in one process.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Services:
    store: Any
    settings: Any
    catalog: Any
    keys: Any  # auth.apikeys.KeyVerifier
    tokens: Any = None  # auth.tokens.Tokens
    limits: Any = None  # auth.ratelimit.Limits
    runner: Any = None  # charter.dispatch.Runner: where blocking calls run


@dataclass(frozen=True)
class Caller:
    request_id: str
    source_ip: str | None
    user_agent: str | None
    headers: dict = field(default_factory=dict, compare=False, repr=False)  # raw ASGI, lower-case

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None


_services: ContextVar[Services] = ContextVar("charter_services")
_caller: ContextVar[Caller] = ContextVar("charter_caller")
_principal: ContextVar[Any] = ContextVar("charter_principal", default=None)


def services() -> Services:
    return _services.get()


def store():
    return _services.get().store


_NOBODY = Caller("-", None, None)  # outside a request (the CLI, tests)


def caller() -> Caller:
    return _caller.get(_NOBODY)


def principal():
    """The auth.principal.Principal of this request; None on a public operation."""
    return _principal.get()


def bind(svc: Services, who: Caller):
    """Set the context for one request; returns tokens for reset()."""
    return _services.set(svc), _caller.set(who)


def reset(tokens) -> None:
    _services.reset(tokens[0])
    _caller.reset(tokens[1])


def bind_principal(who):
    return _principal.set(who)


def reset_principal(token) -> None:
    _principal.reset(token)
