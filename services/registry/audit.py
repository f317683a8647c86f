"""The audit log: append an event a product reports, and page through events newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from charter.domain import Actor
from services.registry import tenancy
from store import errors as store_errors
from store.interface import Store
from store.models import AuditDraft, AuditEvent, AuditQuery

REPORTED = ("actor_id", "actor_name", "actor_type", "action", "target_id", "target_type", "target_name", "product")


def append(
    uow: Store,
    actor: Actor,
    fields: dict[str, Any],
    *,
    tenant_id: UUID | None = None,
    project_id: UUID | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """An event a product reports about itself: its actor fields are the product's to say. The
    tenant is the one asked for, else the actor's own (a bound actor reports for itself only)."""
    tenant = tenancy.scope(actor, tenant_id)
    reported: dict[str, Any] = {key: fields.get(key) for key in REPORTED}
    draft = AuditDraft(
        **reported,
        tenant_id=tenant,
        project_id=project_id,
        metadata=metadata,
        source_ip=actor.source_ip,
        user_agent=actor.user_agent,
    )
    try:
        with uow.write() as s:
            return s.audit.append(draft)
    except store_errors.MissingReference:
        raise tenancy.not_found(tenant) from None


@dataclass(frozen=True)
class Page:
    items: list[AuditEvent]
    next_cursor: int | None


def query(
    uow: Store,
    actor: Actor,
    *,
    tenant_id: UUID | None = None,
    product: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> Page:
    """One page, newest first; a bound actor sees its own tenant's events only."""
    q = AuditQuery(
        limit=limit + 1,
        cursor=cursor,
        tenant_id=tenancy.scope(actor, tenant_id),
        product=product,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
    )
    with uow.read() as s:
        events = s.audit.query(q)
    return Page(events[:limit], events[limit - 1].id if len(events) > limit else None)
