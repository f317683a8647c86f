"""Who may use the compliance products (audit exports, dispute cases): a tenant that holds the
`compliance` entitlement (no trial; a platform credential grants it with POST /v1/entitlements).
Without it they answer 403 `entitlement_required`. The ledger routes stay open to every tenant,
since every tenant has an audit log."""

from __future__ import annotations

from uuid import UUID

from charter.domain import Actor, Forbidden, NotFound
from services.registry import entitlements
from store.interface import Session

ENTITLEMENT = "compliance"


def entitled(s: Session, actor: Actor) -> UUID:
    """The actor's tenant, when it holds the entitlement; a platform caller names it (x-tenant-id)."""
    tenant_id = actor.tenant_id
    if tenant_id is None or s.tenants.get(tenant_id) is None:
        raise NotFound("no tenant named: a platform caller names the tenant with x-tenant-id", "tenant_not_found")
    if not entitlements.holds(s, tenant_id, ENTITLEMENT):
        raise Forbidden("the tenant does not hold the compliance entitlement", "entitlement_required")
    return tenant_id
