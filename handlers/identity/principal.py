"""The principal behind a credential, with its tenant and the tenant's entitlements."""

from __future__ import annotations

from charter.runtime import actor, principal, store
from handlers.identity import _wire
from handlers.registry import _wire as registry_wire
from services.identity.principal import tenant_view


def get() -> dict:
    who = principal()
    out: dict = {
        "kind": who.kind,
        "subject": who.subject,
        "roles": list(who.roles),
        "permissions": sorted(who.permissions),
        "scopes": list(who.scopes),
        "entitlements": [],
    }
    if who.is_session:
        out["session_id"] = str(who.session_id)
    if who.expires_at is not None:
        out["expires_at"] = _wire.at(who.expires_at)
    if who.reason is not None:
        out["reason"] = who.reason
    if who.tenant_id is not None:
        out["tenant_id"] = str(who.tenant_id)
        tenant, entitlements = tenant_view(store(), actor())
        if tenant is not None:
            out["tenant"] = {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name, "status": tenant.status}
        out["entitlements"] = [registry_wire.entitlement(e) for e in entitlements]
    return out
