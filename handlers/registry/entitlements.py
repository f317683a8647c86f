"""A tenant's product entitlements."""
from uuid import UUID

from charter.errors import ApiError
from charter.runtime import store
from handlers.registry import _wire


def list_for_tenant(tenant_id):
    with store().read() as s:
        if s.tenants.get(UUID(tenant_id)) is None:
            raise ApiError(404, f"no tenant with id {tenant_id}", "tenant_not_found")
        items = s.entitlements.list(UUID(tenant_id))
    return {"items": [_wire.entitlement(e) for e in items]}
