"""A tenant's product entitlements."""

from uuid import UUID

from charter.runtime import store
from handlers.registry import _tenancy, _wire


def list_for_tenant(tenant_id):
    with store().read() as s:
        _tenancy.existing(s, tenant_id)
        items = s.entitlements.list(UUID(tenant_id))
    return {"items": [_wire.entitlement(e) for e in items]}
