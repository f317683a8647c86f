"""The records the store keeps. Plain dataclasses: no ORM, no web types."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from uuid import UUID


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Tenant:
    id: UUID
    slug: str
    name: str
    status: str  # demo | trial | active | frozen | archived
    kind: str  # customer | demo
    plan: str
    created_at: datetime
    updated_at: datetime
    erp_customer_id: str | None = None
    stripe_cust_id: str | None = None
    trial_ends_at: datetime | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sales_owner: str | None = None


@dataclass
class Entitlement:
    tenant_id: UUID
    product: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    config: dict = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass
class ApiKey:
    id: UUID
    tenant_id: UUID
    name: str
    prefix: str
    secret_hash: str  # "argon2id|<salt-b64>|<hash-b64>", never the plaintext
    created_at: datetime
    scopes: list[str] = field(default_factory=list)
    product: str | None = None
    created_by: str | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass
class AuditDraft:
    """An audit event before the store gives it an id and a time."""

    action: str
    tenant_id: UUID | None = None
    project_id: UUID | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    actor_type: str | None = None
    target_id: str | None = None
    target_type: str | None = None
    target_name: str | None = None
    product: str | None = None
    metadata: dict | None = None
    source_ip: str | None = None
    user_agent: str | None = None


@dataclass
class AuditEvent(AuditDraft):
    id: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the audit log. Newest first; `cursor` keeps ids below it; since <= t < until."""

    limit: int = 50
    cursor: int | None = None
    tenant_id: UUID | None = None
    product: str | None = None
    actor_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
