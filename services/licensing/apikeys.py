"""Licensing API keys: registry API keys of the tenant (`product: licensing`), each made for one of
the seed's roles, whose scopes it carries. Presented as `Authorization: Bearer bp_…` on the admin
paths (or exchanged for a token), a key grants its scopes there and nothing else. Only a
tenant_admin (or a platform admin) manages them: not a support session, not another key. The
plaintext is shown once; the store keeps only a hash, as for every registry key."""

from __future__ import annotations

from uuid import UUID

from charter.domain import API_KEY, SERVICE, SUPPORT, Actor, Forbidden, NotFound
from services.licensing import tenancy
from services.registry import api_keys as registry_keys
from store.interface import Store
from store.models import ApiKey

PRODUCT = "licensing"
_READS = (
    "licenses:read",
    "products:read",
    "policies:read",
    "machines:read",
    "codes:read",
    "invoices:read",
    "subscriptions:read",
)
ROLES: dict[str, tuple[str, ...]] = {
    "read-only": _READS,
    "license-issuer": ("licenses:read", "licenses:write", "products:read", "policies:read"),
    "support": (
        "licenses:read",
        "licenses:write",
        "machines:read",
        "machines:write",
        "codes:read",
        "invoices:read",
        "products:read",
        "policies:read",
        "subscriptions:read",
        "subscriptions:write",
    ),
    "merchant-onboard": (*_READS, "products:write", "policies:write", "codes:write"),
    "full-admin": (
        *_READS,
        "licenses:write",
        "products:write",
        "policies:write",
        "machines:write",
        "codes:write",
        "invoices:write",
        "subscriptions:write",
        "webhooks:read",
        "webhooks:write",
    ),
}


def role_of(key: ApiKey) -> str:
    return next((role for role, scopes in ROLES.items() if set(scopes) == set(key.scopes)), "custom")


def require_manager(actor: Actor, what: str = "manages licensing API keys") -> None:
    """Forbidden unless the actor is a tenant_admin (or a platform admin): not a support session,
    not an API key nor a token minted from one. The seed's "master admin key" operations."""
    if actor.kind in (SUPPORT, SERVICE, API_KEY):
        raise Forbidden(f"only a tenant_admin {what}", "forbidden")


def create(uow: Store, actor: Actor, slug: str, label: str, role: str) -> tuple[ApiKey, str]:
    require_manager(actor)
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
    return registry_keys.create(
        uow, actor, tenant_id=tenant.id, name=label, scopes=ROLES[role], product=PRODUCT, created_by=actor.id
    )


def list_keys(uow: Store, actor: Actor, slug: str) -> list[ApiKey]:
    require_manager(actor)
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
    return [k for k in registry_keys.list_for_tenant(uow, actor, tenant.id) if k.product == PRODUCT]


def revoke(uow: Store, actor: Actor, slug: str, key_id: UUID) -> ApiKey:
    """Idempotent: a revoked key answers as it is."""
    require_manager(actor)
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        key = s.api_keys.get(key_id)
    if key is None or key.tenant_id != tenant.id or key.product != PRODUCT:
        raise NotFound(f"no licensing API key {key_id}", "api_key_not_found")
    registry_keys.revoke(uow, actor, key_id)
    with uow.read() as s:
        return s.api_keys.get(key_id) or key
