"""The principal behind a credential, with its tenant and the tenant's entitlements."""

from __future__ import annotations

from auth.principal import SESSION_KINDS
from charter import runtime
from handlers.identity import _wire
from handlers.registry import _wire as registry_wire


def get():
    who = runtime.principal()
    out = {
        "kind": who.kind,
        "subject": who.subject,
        "roles": list(who.roles),
        "permissions": sorted(who.permissions),
        "scopes": list(who.scopes),
        "entitlements": [],
    }
    if who.kind in SESSION_KINDS:
        out["session_id"] = str(who.session_id)
    if who.expires_at is not None:
        out["expires_at"] = _wire.at(who.expires_at)
    if who.reason is not None:
        out["reason"] = who.reason
    if who.tenant_id is not None:
        out["tenant_id"] = str(who.tenant_id)
        with runtime.store().read() as s:
            tenant = s.tenants.get(who.tenant_id)
            entitlements = s.entitlements.list(who.tenant_id) if tenant else []
        if tenant is not None:
            out["tenant"] = {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name, "status": tenant.status}
        out["entitlements"] = [registry_wire.entitlement(e) for e in entitlements]
    return out
