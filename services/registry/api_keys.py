"""API keys: create (the plaintext is shown once), list, revoke, verify."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID, uuid4

from auth import apikeys
from auth.context import Auth
from charter.domain import Actor, Event, NotFound
from services.registry import shapes, tenancy
from store.interface import Store
from store.models import ApiKey, utcnow


def _event(action: str, actor: Actor, key: ApiKey, **metadata: object) -> Event:
    return Event(
        action,
        actor,
        "api_key",
        str(key.id),
        tenant_id=key.tenant_id,
        target_name=key.name,
        product=key.product,
        metadata=dict(metadata),
        data=shapes.api_key(key),  # api_key.created and api_key.revoked are both in the catalog
    )


def create(
    uow: Store,
    actor: Actor,
    *,
    tenant_id: UUID,
    name: str,
    scopes: Sequence[str] = (),
    product: str | None = None,
    created_by: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key of the tenant and its plaintext; only a SHA-256 of it is kept (auth.apikeys)."""
    plaintext, prefix = apikeys.mint()
    key = ApiKey(
        id=uuid4(),
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        secret_hash=apikeys.hash_key(plaintext),
        created_at=utcnow(),
        scopes=list(scopes),
        product=product,
        created_by=created_by,
    )
    with uow.write() as s:
        tenancy.existing(s, actor, tenant_id)
        s.api_keys.add(key)
        s.record(_event("api_key.created", actor, key, prefix=key.prefix, scopes=key.scopes))
    return key, plaintext


def list_for_tenant(uow: Store, actor: Actor, tenant_id: UUID) -> list[ApiKey]:
    with uow.read() as s:
        tenancy.existing(s, actor, tenant_id)
        return s.api_keys.list(tenant_id)


def revoke(uow: Store, actor: Actor, key_id: UUID) -> None:
    """Revoked at once in every worker; revoking a revoked key changes nothing."""
    with uow.write() as s:
        key = s.api_keys.get(key_id)
        if key is None or not actor.sees(key.tenant_id):
            raise NotFound(f"no API key with id {key_id}", "api_key_not_found")
        at = utcnow()
        if s.api_keys.revoke(key_id, at):
            s.record(_event("api_key.revoked", actor, replace(key, revoked_at=at)))


def verify(uow: Store, auth: Auth, plaintext: str, ip: str | None) -> ApiKey | None:
    """The live key this plaintext is, or None. A key that verifies is never refused; failures
    count against the address, which answers RateLimited instead of "not valid" once it has had
    too many (auth.ratelimit)."""
    return auth.limits.key_attempt(uow, auth.keys, plaintext, "verify", ip)
