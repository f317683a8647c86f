"""Roles and the permissions they grant: the one place that says who may do what.

An operation names the permissions it needs as the scopes of its security requirement in the spec
(`security: [{bearerAuth: [api_keys:write]}]`); the security middleware grants the request when
the caller's permissions include them. Whether the object asked for belongs to the caller's tenant
is the other half of the rule, in auth.access.

Platform roles (platform_admin, support) belong to users without a tenant; tenant roles
(tenant_admin, tenant_member) to a user's membership in one tenant. A tenant-bound caller never
holds a platform permission, whatever its roles or an API key's scopes say, so nothing a tenant
grants itself reaches beyond it.
"""

from __future__ import annotations

from typing import Iterable

PLATFORM_ROLES = ("platform_admin", "support")
TENANT_ROLES = ("tenant_admin", "tenant_member")

READ = frozenset(
    {
        "tenants:read",
        "entitlements:read",
        "catalog:read",
        "api_keys:read",
        "audit:read",
    }
)
TENANT_PERMISSIONS = READ | {"catalog:request", "api_keys:write", "audit:write"}
# Only a caller bound to no tenant can hold these.
PLATFORM_PERMISSIONS = frozenset({"tenants:write", "support:session"})
ALL_PERMISSIONS = TENANT_PERMISSIONS | PLATFORM_PERMISSIONS

GRANTS: dict[str, frozenset[str]] = {
    "platform_admin": ALL_PERMISSIONS,
    # Support reads across tenants and runs their lifecycle; to change anything inside one tenant
    # it opens a support session there, with a reason, and every action is audited as such.
    "support": READ | PLATFORM_PERMISSIONS,
    "tenant_admin": TENANT_PERMISSIONS,
    "tenant_member": READ,
}
# What a support session (a support user acting inside one tenant) may do there.
SUPPORT_SESSION = TENANT_PERMISSIONS


def permissions(roles: Iterable[str], *, tenant_bound: bool) -> frozenset[str]:
    """What these roles grant; unknown roles grant nothing."""
    granted: set[str] = set()
    for role in roles:
        granted |= GRANTS.get(role, frozenset())
    return frozenset(granted & TENANT_PERMISSIONS if tenant_bound else granted)


def key_permissions(scopes: Iterable[str]) -> frozenset[str]:
    """What an API key's scopes grant the tokens minted from it: its tenant's permissions only.
    Scopes that name no Charter permission (another product's, say) are kept on the key and
    passed on to verify callers, but grant nothing here."""
    return frozenset(scopes) & TENANT_PERMISSIONS


def unknown_roles(roles: Iterable[str], *, platform: bool) -> list[str]:
    """Roles that do not exist at that level (platform or tenant)."""
    allowed = PLATFORM_ROLES if platform else TENANT_ROLES
    return [r for r in roles if r not in allowed]
