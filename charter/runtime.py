"""What a handler may reach besides its arguments: the app's services, the caller, the actor.

The request middleware binds the services and the caller for every request; the security
middleware binds the principal (who the credentials stand for) on every operation that is not
public. `actor()` is who a service is told acts: the principal's actor, or an anonymous one on a
public operation. Several apps (one per store, as in the tests) can live in one process.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, TypeVar

from charter.config import Settings
from charter.domain import ANONYMOUS, Actor

T = TypeVar("T")


@dataclass
class Services:
    """The store, the settings, where blocking calls run, and what each API built at start-up
    (its components, looked up by their class: `services().get(Catalog)`)."""

    store: Any
    settings: Settings
    runner: Any = None  # charter.dispatch.Runner
    components: dict[type, Any] = field(default_factory=dict)

    def get(self, kind: type[T]) -> T:
        try:
            found: T = self.components[kind]
            return found
        except KeyError:
            raise LookupError(f"no {kind.__name__} was built for this app: is its API registered?") from None


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


def store() -> Any:
    return _services.get().store


_NOBODY = Caller("-", None, None)  # outside a request (the CLI, tests)


def caller() -> Caller:
    return _caller.get(_NOBODY)


def principal() -> Any:
    """What the security layer bound for this request (it has `as_actor(caller)`); None on a
    public operation."""
    return _principal.get()


def actor() -> Actor:
    """Who acts in this request: the principal's actor, else nobody authenticated."""
    who, c = _principal.get(), caller()
    if who is not None:
        acting: Actor = who.as_actor(c)
        return acting
    return Actor(ANONYMOUS, None, None, c.request_id, c.source_ip, c.user_agent)


def bind(svc: Services, who: Caller) -> tuple[Token, Token]:
    """Set the context for one request; returns tokens for reset()."""
    return _services.set(svc), _caller.set(who)


def reset(tokens: tuple[Token, Token]) -> None:
    _services.reset(tokens[0])
    _caller.reset(tokens[1])


def bind_principal(who: Any) -> Token:
    return _principal.set(who)


def reset_principal(token: Token) -> None:
    _principal.reset(token)
