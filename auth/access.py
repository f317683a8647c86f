"""Object-level access: which tenant's things the current caller may see or change.

The security middleware has already checked the caller's permission for the operation (auth.roles).
Handlers ask here about the object: a caller bound to a tenant (by its token, or a platform
caller by its x-tenant-id header) sees that tenant's objects only, and anything else answers
exactly as a thing that does not exist would (the handler's own 404), so ids of other tenants
can neither be read nor probed. Without a principal (an operation the spec marks public) nothing
is visible: a handler reached that way by mistake shows nothing.
"""

from __future__ import annotations

from uuid import UUID

from charter import runtime
from charter.errors import ApiError


def sees(tenant_id: UUID | None) -> bool:
    who = runtime.principal()
    return who is not None and who.sees(tenant_id)


def check(tenant_id: UUID | None, hidden: ApiError) -> None:
    """Raise `hidden` (the handler's not-found answer) unless the caller may see `tenant_id`."""
    if not sees(tenant_id):
        raise hidden


def tenant_filter(requested: UUID | None, hidden: ApiError) -> UUID | None:
    """The tenant a listing covers: the one asked for, else the caller's own when it is bound to
    one (a bound caller cannot list across tenants); `hidden` when it asks for another's."""
    who = runtime.principal()
    if who is None:
        raise hidden
    if who.tenant_id is None:
        return requested
    if requested is None or requested == who.tenant_id:
        return who.tenant_id
    raise hidden


def bound_tenant() -> UUID | None:
    """The one tenant the caller is bound to, or None for an unbound platform caller."""
    who = runtime.principal()
    return who.tenant_id if who is not None else None
