"""Login, refresh and logout."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from auth import sessions
from charter import runtime
from charter.errors import ApiError
from handlers.identity import _wire


def login(body):
    who = runtime.caller()
    chosen = {UUID(v) for v in (body.get("tenant_id"), who.header(b"x-tenant-id")) if v}
    if len(chosen) > 1:
        raise ApiError(401, "tenant_id and x-tenant-id name different tenants", "tenant_mismatch")
    issued = sessions.login(
        runtime.services(), body["email"], body["password"], chosen.pop() if chosen else None, who.source_ip
    )
    return _wire.token_pair(issued), 200, _wire.set_cookie(issued)


def refresh(body=None):
    token = (body or {}).get("refresh_token") or _wire.cookie()
    if not token:
        raise ApiError(401, "send the refresh token in the body or the charter_session cookie", "refresh_token_missing")
    try:
        issued = sessions.refresh(runtime.services(), token)
    except ApiError as refused:  # a dead session's cookie is of no more use: drop it
        refused.headers.update(_wire.clear_cookie())
        raise
    return _wire.token_pair(issued), 200, _wire.set_cookie(issued)


def logout():
    sessions.logout(runtime.services(), runtime.principal())
    return NoContent, 204, _wire.clear_cookie()
