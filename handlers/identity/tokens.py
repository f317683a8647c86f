"""Service-account tokens: a registry API key exchanged for a short-lived access token."""

from __future__ import annotations

from auth import audit
from auth.principal import SERVICE
from charter import runtime
from handlers.identity import _wire


def exchange():
    """The security layer has authenticated the API key (rate-limited, and only a live key of an
    active tenant passes); mint a token bound to its tenant and scopes."""
    svc, key = runtime.services(), runtime.principal()
    token, expires_at = svc.tokens.mint(
        kind=SERVICE,
        subject=key.subject,
        session_id=key.session_id,
        ttl=svc.settings.service_ttl,
        tenant_id=key.tenant_id,
        scopes=key.scopes,
    )
    with svc.store.write() as s:
        s.audit.append(
            audit.event(
                "auth.token_minted",
                tenant_id=key.tenant_id,
                target_type="api_key",
                target_id=key.subject,
                metadata={"expires_at": expires_at},
            )
        )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": _wire.expires_in(expires_at),
        "tenant_id": str(key.tenant_id),
        "scope": " ".join(key.scopes),
    }


# Paybond Kit clients call POST /v1/auth/harbor-access: the same handler.
harbor_access = exchange
