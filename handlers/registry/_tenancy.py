"""Tenant rules every registry handler shares: trial length, inactive states, the 404, and that a
caller sees only the tenants auth.access lets it see (another tenant's answers the same 404)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from auth import access
from charter.errors import ApiError

TRIAL = timedelta(days=14)


def not_found(tenant_id) -> ApiError:
    return ApiError(404, f"no tenant with id {tenant_id}", "tenant_not_found")


def existing(session, tenant_id, *, for_update: bool = False):
    """The tenant with this id, or the registry's 404 (also when the caller may not see it)."""
    wanted = UUID(str(tenant_id))
    if not access.sees(wanted):
        raise not_found(tenant_id)
    tenant = session.tenants.get(wanted, for_update=for_update)
    if tenant is None:
        raise not_found(tenant_id)
    return tenant
