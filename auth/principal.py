"""Who is calling: the principal a credential stands for, as the security middleware binds it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

# kind: how the caller authenticated
USER = "user"  # an access token of a login session
SUPPORT = "support"  # an access token of a support session: a support user inside one tenant
SERVICE = "service"  # an access token minted from an API key
API_KEY = "api_key"  # the API key itself, where an operation accepts one (serviceKey)
ADMIN_KEY = "admin_key"  # the bootstrap key, CHARTER_ADMIN_KEY

# kinds whose token carries the id of a live credential (sid) that a request checks at once
SESSION_KINDS = frozenset({USER, SUPPORT})


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str
    subject: str  # user id, API key id, or "bootstrap" for the admin key
    tenant_id: UUID | None  # the one tenant it may see; None for a platform caller
    roles: tuple[str, ...]
    permissions: frozenset[str]
    session_id: UUID | None = None  # the session, or for a service token the API key, behind it
    token_id: str | None = None  # jti
    expires_at: int | None = None  # exp, epoch seconds
    scopes: tuple[str, ...] = ()  # an API key's scopes as stored
    reason: str | None = None  # why a support session was opened
    platform: bool = False  # bound to no tenant by its credential

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    def sees(self, tenant_id: UUID | None) -> bool:
        """Whether the caller may see what belongs to `tenant_id` (None: to no tenant)."""
        return self.tenant_id is None or self.tenant_id == tenant_id

    def acting_for(self, tenant_id: UUID) -> "Principal":
        """A platform caller narrowed to one tenant by its x-tenant-id header."""
        return replace(self, tenant_id=tenant_id)
