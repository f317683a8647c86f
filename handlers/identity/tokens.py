"""Service-account tokens: a registry API key exchanged for a short-lived access token."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, principal, store
from handlers.identity import _wire
from services.identity import tokens
from services.identity.api import auth


def exchange() -> dict:
    """The security layer has authenticated the API key (rate-limited, and only a live key of an
    active tenant passes); mint a token bound to its tenant and scopes."""
    key = principal()
    minted = tokens.exchange(
        store(), auth(), actor(), key_id=UUID(key.subject), tenant_id=key.tenant_id, scopes=key.scopes
    )
    return {
        "access_token": minted.token,
        "token_type": "Bearer",
        "expires_in": _wire.expires_in(minted.expires_at),
        "tenant_id": str(minted.tenant_id),
        "scope": " ".join(minted.scopes),
    }


# Paybond Kit clients call POST /v1/auth/harbor-access: the same handler.
harbor_access = exchange
