"""What a handler may reach besides its arguments: the app's services and the current caller.

The request middleware sets both context variables for every request, so handlers stay plain
functions and several apps (one per store, as in the tests) can live in one process.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass
class Services:
    store: Any
    settings: Any
    catalog: Any
    keys: Any  # auth.apikeys.KeyVerifier


@dataclass(frozen=True)
class Caller:
    request_id: str
    source_ip: str | None
    user_agent: str | None


_services: ContextVar[Services] = ContextVar("charter_services")
_caller: ContextVar[Caller] = ContextVar("charter_caller")


def services() -> Services:
    return _services.get()


def store():
    return _services.get().store


def caller() -> Caller:
    return _caller.get(Caller("-", None, None))


def bind(svc: Services, who: Caller):
    """Set the context for one request; returns tokens for reset()."""
    return _services.set(svc), _caller.set(who)


def reset(tokens) -> None:
    _services.reset(tokens[0])
    _caller.reset(tokens[1])
