"""The audit log: append an event a product reports, and page through events newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from charter.domain import PLATFORM_KINDS, Actor, Forbidden
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
    """An event a product reports about itself. Its actor fields are the product's claims, kept as
    such; who appended it (the credential's kind, id and tenant) the server records beside them,
    where no caller can set it. A caller bound to a tenant reports for that tenant only, and
    cannot claim a platform actor (the bootstrap key, support, the CLI, the system, a job)."""
    tenant = tenancy.scope(actor, tenant_id)
    reported: dict[str, Any] = {key: fields.get(key) for key in REPORTED}
    if actor.tenant_id is not None and reported["actor_type"] in PLATFORM_KINDS:
        raise Forbidden(f"a tenant's credential cannot report a {reported['actor_type']} actor", "platform_actor")
    draft = AuditDraft(
        **reported,
        tenant_id=tenant,
        project_id=project_id,
        metadata=metadata,
        source_ip=actor.source_ip,
        user_agent=actor.user_agent,
        recorded_by_kind=actor.kind,
        recorded_by_id=actor.id,
        recorded_by_tenant_id=actor.tenant_id,
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
