"""Support sessions: a support user, time-boxed, inside one tenant, with a reason."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.identity import _wire
from services.identity import sessions
from services.identity.api import auth


def start(body: dict) -> tuple[dict, int]:
    tenant_id = UUID(body["tenant_id"])
    issued = sessions.start_support(
        store(), auth(), actor(), tenant_id=tenant_id, reason=body["reason"], expires_in=body.get("expires_in")
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
