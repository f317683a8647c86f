"""The storage interface: one Protocol per aggregate, a Session that groups them, and the Store.

A Session is one transaction. `store.write()` is atomic: every change and its audit event commit
together or not at all. `store.read()` never writes. Implementations: store.memory, store.sql.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from store.models import ApiKey, AuditDraft, AuditEvent, AuditQuery, Entitlement, Tenant


class Tenants(Protocol):
    def add(self, tenant: Tenant) -> None:
        """Insert; raises Conflict("slug") when the slug is taken."""

    def get(self, tenant_id: UUID, *, for_update: bool = False) -> Tenant | None: ...

    def get_by_slug(self, slug: str) -> Tenant | None: ...

    def save(self, tenant: Tenant) -> None:
        """Overwrite the mutable fields of an existing tenant."""

    def delete(self, tenant_id: UUID) -> bool:
        """Remove a tenant and what it owns; its audit events stay with tenant_id cleared."""


class Entitlements(Protocol):
    def list(self, tenant_id: UUID) -> list[Entitlement]: ...

    def get(self, tenant_id: UUID, product: str) -> Entitlement | None: ...

    def add(self, entitlement: Entitlement) -> None:
        """Insert; raises Conflict("entitlement") when the tenant holds the product already."""


class ApiKeys(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: UUID) -> ApiKey | None: ...

    def list(self, tenant_id: UUID) -> list[ApiKey]: ...

    def by_prefix(self, prefix: str) -> list[tuple[ApiKey, str]]:
        """Keys with this display prefix, each with its tenant's status."""

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        """Set revoked_at if unset; True when this call revoked it."""

    def touch(self, key_id: UUID, at: datetime) -> None:
        """Record a successful use."""


class Audit(Protocol):
    def append(self, draft: AuditDraft) -> AuditEvent:
        """Raises MissingReference when draft.tenant_id names no tenant."""

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        """Up to query.limit events, newest first."""


class Session(Protocol):
    tenants: Tenants
    entitlements: Entitlements
    api_keys: ApiKeys
    audit: Audit


class Store(Protocol):
    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...

    def ping(self) -> None:
        """Raises Unavailable when the backing database cannot be reached."""

    def close(self) -> None: ...
