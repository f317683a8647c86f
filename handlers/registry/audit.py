"""The audit log: append an event, and page through events newest first."""

from __future__ import annotations

from uuid import UUID

from auth import access
from charter import runtime
from charter.formats import parse_date_time
from handlers.registry import _tenancy, _wire
from store.errors import MissingReference
from store.models import AuditDraft, AuditQuery

_TEXT = ("actor_id", "actor_name", "actor_type", "action", "target_id", "target_type", "target_name", "product")


def append(body):
    who = runtime.caller()
    asked = body.get("tenant_id")
    tenant_id = access.tenant_filter(UUID(asked) if asked else None, _tenancy.not_found(asked))
    draft = AuditDraft(
        **{key: body.get(key) for key in _TEXT},
        tenant_id=tenant_id,
        project_id=UUID(body["project_id"]) if body.get("project_id") else None,
        metadata=body.get("metadata"),
        source_ip=who.source_ip,
        user_agent=who.user_agent,
    )
    try:
        with runtime.store().write() as s:
            event = s.audit.append(draft)
    except MissingReference:
        raise _tenancy.not_found(tenant_id) from None
    return _wire.audit_event(event), 201


def query(tenant_id=None, product=None, actor_id=None, action=None, since=None, until=None, limit=50, cursor=None):
    q = AuditQuery(
        limit=limit + 1,
        cursor=cursor,
        tenant_id=access.tenant_filter(UUID(tenant_id) if tenant_id else None, _tenancy.not_found(tenant_id)),
        product=product,
        actor_id=actor_id,
        action=action,
        since=parse_date_time(since) if since else None,
        until=parse_date_time(until) if until else None,
    )
    with runtime.store().read() as s:
        events = s.audit.query(q)
    out = {"items": [_wire.audit_event(e) for e in events[:limit]]}
    if len(events) > limit:
        out["next_cursor"] = events[limit - 1].id
    return out
