"""Login, refresh and logout."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from charter import runtime
from charter.domain import DomainError, Unauthorized
from charter.errors import ApiError
from charter.runtime import actor, store
from handlers.identity import _wire
from services.identity import sessions
from services.identity.api import auth


def login(body: dict) -> tuple[dict, int, dict]:
    chosen = {UUID(v) for v in (body.get("tenant_id"), runtime.caller().header(b"x-tenant-id")) if v}
    if len(chosen) > 1:
        raise Unauthorized("tenant_id and x-tenant-id name different tenants", "tenant_mismatch")
    issued = sessions.login(store(), auth(), actor(), body["email"], body["password"], chosen.pop() if chosen else None)
    return _wire.token_pair(issued), 200, _wire.set_cookie(issued)


def refresh(body: dict | None = None) -> tuple[dict, int, dict]:
    token = (body or {}).get("refresh_token") or _wire.cookie()
    if not token:
        raise Unauthorized("send the refresh token in the body or the charter_session cookie", "refresh_token_missing")
    try:
        issued = sessions.refresh(store(), auth(), actor(), token)
    except DomainError as refused:  # a dead session's cookie is of no more use: drop it
        raise ApiError.of(refused, _wire.clear_cookie()) from None
    return _wire.token_pair(issued), 200, _wire.set_cookie(issued)


def logout() -> tuple[object, int, dict]:
    sessions.logout(store(), actor())
    return NoContent, 204, _wire.clear_cookie()
