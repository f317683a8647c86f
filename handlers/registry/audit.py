"""The audit log: append an event, and page through events newest first."""

from __future__ import annotations

from uuid import UUID

from charter.formats import parse_date_time
from charter.runtime import actor, store
from handlers.registry import _wire
from services.registry import audit


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def append(body: dict) -> tuple[dict, int]:
    event = audit.append(
        store(),
        actor(),
        body,
        tenant_id=_uuid(body.get("tenant_id")),
        project_id=_uuid(body.get("project_id")),
        metadata=body.get("metadata"),
    )
    return _wire.audit_event(event), 201


def query(
    tenant_id: str | None = None,
    product: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> dict:
    page = audit.query(
        store(),
        actor(),
        tenant_id=_uuid(tenant_id),
        product=product,
        actor_id=actor_id,
        action=action,
        since=parse_date_time(since) if since else None,
        until=parse_date_time(until) if until else None,
        limit=limit,
        cursor=cursor,
    )
    out: dict = {"items": [_wire.audit_event(e) for e in page.items]}
    if page.next_cursor is not None:
        out["next_cursor"] = page.next_cursor
    return out
