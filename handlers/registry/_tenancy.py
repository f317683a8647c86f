"""Tenant rules every registry handler shares: trial length, inactive states, the 404."""
from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from charter.errors import ApiError

TRIAL = timedelta(days=14)
INACTIVE = frozenset({"frozen", "archived"})  # their keys do not verify, they start no trials


def not_found(tenant_id) -> ApiError:
    return ApiError(404, f"no tenant with id {tenant_id}", "tenant_not_found")


def existing(session, tenant_id, *, for_update: bool = False):
    """The tenant with this id, or the registry's 404."""
    tenant = session.tenants.get(UUID(str(tenant_id)), for_update=for_update)
    if tenant is None:
        raise not_found(tenant_id)
    return tenant
