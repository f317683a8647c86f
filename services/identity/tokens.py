"""Service-account tokens: a registry API key exchanged for a short-lived access token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from auth.context import Auth
from auth.principal import SERVICE
from charter.domain import Actor, Event
from store.interface import Store


@dataclass(frozen=True)
class Minted:
    token: str
    expires_at: int  # epoch seconds
    tenant_id: UUID
    scopes: tuple[str, ...]


def exchange(uow: Store, auth: Auth, actor: Actor, *, key_id: UUID, tenant_id: UUID, scopes: Sequence[str]) -> Minted:
    """A token bound to the key's tenant and scopes. The caller has authenticated the key (only a
    live key of an active tenant passes); the token stops working when the key is revoked."""
    token, expires_at = auth.tokens.mint(
        kind=SERVICE,
        subject=str(key_id),
        session_id=key_id,
        ttl=auth.settings.service_ttl,
        tenant_id=tenant_id,
        scopes=scopes,
    )
    with uow.write() as s:
        s.record(
            Event(
                "auth.token_minted",
                actor,
                "api_key",
                str(key_id),
                tenant_id=tenant_id,
                metadata={"expires_at": expires_at},
            )
        )
    return Minted(token, expires_at, tenant_id, tuple(scopes))
