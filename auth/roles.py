"""Roles and the permissions they grant: the one place that says who may do what.

An operation names the permissions it needs as the scopes of its security requirement in the spec
(`security: [{bearerAuth: [api_keys:write]}]`); the security middleware grants the request when
the caller's permissions include them. Whether the object asked for belongs to the caller's tenant
is the other half of the rule, decided by the services with the actor (charter.domain.Actor.sees).

The permissions themselves belong to the APIs: each declares its own (charter.api.Permissions)
and the composition root hands them all to `define()` at start-up, which fills the sets below in
place. The roles are fixed:

- platform_admin: every permission;
- support: every tenant-level read, and the platform permissions (it reads across tenants and
  runs their lifecycle; to change anything inside one tenant it opens a support session there,
  with a reason, and every action is audited as such);
- tenant_admin: every tenant-level permission, inside its tenant;
- tenant_member: the tenant-level reads, inside its tenant.

A tenant-bound caller never holds a platform permission, whatever its roles or an API key's
scopes say, so nothing a tenant grants itself reaches beyond it.
"""

from __future__ import annotations

from collections.abc import Iterable

from charter.api import Permissions

PLATFORM_ROLES = ("platform_admin", "support")
TENANT_ROLES = ("tenant_admin", "tenant_member")

# Filled in place by define(), so every module that imported them sees the same sets.
READ: set[str] = set()
TENANT_PERMISSIONS: set[str] = set()
PLATFORM_PERMISSIONS: set[str] = set()
ALL_PERMISSIONS: set[str] = set()
GRANTS: dict[str, set[str]] = {role: set() for role in (*PLATFORM_ROLES, *TENANT_ROLES)}
# What a support session (a support user acting inside one tenant) may do there.
SUPPORT_SESSION = TENANT_PERMISSIONS


def define(declared: Iterable[Permissions]) -> None:
    """Take every API's permissions (again: the sets are replaced, not added to)."""
    declared = list(declared)
    read = set().union(*(p.read for p in declared))
    tenant = read.union(*(p.write for p in declared))
    platform = set().union(*(p.platform for p in declared))
    clash = tenant & platform
    if clash:
        raise ValueError(f"permissions both tenant-level and platform-level: {sorted(clash)}")
    for target, value in (
        (READ, read),
        (TENANT_PERMISSIONS, tenant),
        (PLATFORM_PERMISSIONS, platform),
        (ALL_PERMISSIONS, tenant | platform),
        (GRANTS["platform_admin"], tenant | platform),
        (GRANTS["support"], read | platform),
        (GRANTS["tenant_admin"], tenant),
        (GRANTS["tenant_member"], read),
    ):
        target.clear()
        target.update(value)


def permissions(roles: Iterable[str], *, tenant_bound: bool) -> frozenset[str]:
    """What these roles grant; unknown roles grant nothing."""
    granted: set[str] = set()
    for role in roles:
        granted |= GRANTS.get(role, set())
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
