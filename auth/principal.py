"""Who is calling: the principal a credential stands for, as the security middleware binds it.

A principal says what the credential may do (its permissions); the actor it stands for
(`as_actor`) is what services are given and what audit rows name.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from uuid import UUID

from charter.domain import ADMIN_KEY, API_KEY, SERVICE, SUPPORT, USER, Actor
from charter.runtime import Caller

__all__ = ["ADMIN_KEY", "API_KEY", "SERVICE", "SESSION_KINDS", "SUPPORT", "USER", "Principal"]

# kinds whose token carries the id of a live credential (sid) that a request checks at once
SESSION_KINDS = frozenset({USER, SUPPORT})


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str
    subject: str  # user id, API key id, or "bootstrap" for the admin key
    tenant_id: UUID | None  # the one tenant it may see; None for a platform caller
    roles: tuple[str, ...]
    permissions: AbstractSet[str]  # what it may do (auth.roles)
    session_id: UUID | None = None  # the session, or for a service token the API key, behind it
    token_id: str | None = None  # jti
    expires_at: int | None = None  # exp, epoch seconds
    scopes: tuple[str, ...] = ()  # an API key's scopes as stored
    reason: str | None = None  # why a support session was opened
    platform: bool = False  # bound to no tenant by its credential

    def sees(self, tenant_id: UUID | None) -> bool:
        """Whether the caller may see what belongs to `tenant_id` (None: to no tenant)."""
        return self.tenant_id is None or self.tenant_id == tenant_id

    @property
    def is_session(self) -> bool:
        """Whether its credential is a session (login or support) that can be ended."""
        return self.kind in SESSION_KINDS

    def acting_for(self, tenant_id: UUID) -> Principal:
        """A platform caller narrowed to one tenant by its x-tenant-id header."""
        return replace(self, tenant_id=tenant_id)

    def as_actor(self, caller: Caller) -> Actor:
        """The actor this principal is, in the request `caller` describes."""
        return Actor(
            self.kind,
            self.subject,
            self.tenant_id,
            caller.request_id,
            caller.source_ip,
            caller.user_agent,
            self.session_id,
            self.reason if self.kind == SUPPORT else None,
        )
