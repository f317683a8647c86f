"""Support sessions: a support user, time-boxed, inside one tenant, with a reason."""

from __future__ import annotations

from uuid import UUID

from auth import access, sessions
from charter import runtime
from charter.config import SUPPORT_SESSION_MAX_S
from handlers.identity import _wire
from handlers.registry import _tenancy


def start(body):
    tenant_id = UUID(body["tenant_id"])
    hidden = _tenancy.not_found(body["tenant_id"])
    access.check(tenant_id, hidden)
    ttl = min(int(body.get("expires_in") or SUPPORT_SESSION_MAX_S), SUPPORT_SESSION_MAX_S)
    issued = sessions.start_support(
        runtime.services(), runtime.principal(), tenant_id, body["reason"].strip(), ttl, hidden
    )
    return {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": _wire.expires_in(issued.expires_at),
        "tenant_id": str(tenant_id),
        "session_id": str(issued.session.id),
        "reason": issued.session.reason,
        "expires_at": _wire.at(issued.expires_at),
    }, 201
