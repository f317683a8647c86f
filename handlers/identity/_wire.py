"""Tokens and sessions to the JSON shapes of specs/identity.yaml, and the session cookie."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie

from charter import runtime
from charter.formats import format_date_time
from services.identity.sessions import Issued

COOKIE = "charter_session"  # the refresh token, for browsers
COOKIE_PATH = "/v1/auth"  # sent back to the auth endpoints only


def at(epoch: int) -> str:
    """Epoch seconds as the RFC 3339 the specs use."""
    return format_date_time(datetime.fromtimestamp(epoch, UTC))


def expires_in(expires_at: int) -> int:
    return max(1, expires_at - int(time.time()))


def token_pair(issued: Issued) -> dict:
    session = issued.session
    out = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": expires_in(issued.expires_at),
        "refresh_token": issued.refresh_token,
        "refresh_expires_in": expires_in(int(session.expires_at.timestamp())),
        "session_id": str(session.id),
        "roles": list(issued.roles),
    }
    if session.tenant_id is not None:
        out["tenant_id"] = str(session.tenant_id)
    return out


def set_cookie(issued: Issued) -> dict:
    """The session cookie: the refresh token, for browsers, sent back to /v1/auth only."""
    max_age = expires_in(int(issued.session.expires_at.timestamp()))
    return {
        "Set-Cookie": f"{COOKIE}={issued.refresh_token}; Path={COOKIE_PATH}; Max-Age={max_age}; "
        "HttpOnly; Secure; SameSite=Strict"
    }


def clear_cookie() -> dict:
    return {"Set-Cookie": f"{COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict"}


def cookie() -> str | None:
    """The session cookie of this request, if it sent one."""
    raw = runtime.caller().header(b"cookie")
    if not raw:
        return None
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None
