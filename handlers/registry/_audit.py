"""Audit events for registry changes, stamped with who asked and from where."""
from __future__ import annotations

from charter import runtime
from store.models import AuditDraft


def event(action: str, *, tenant_id=None, target_type: str, target_id, target_name=None,
          product=None, metadata=None) -> AuditDraft:
    who = runtime.caller()
    return AuditDraft(
        action=action,
        tenant_id=tenant_id,
        actor_type="anonymous",
        target_type=target_type,
        target_id=str(target_id),
        target_name=target_name,
        product=product,
        metadata={"request_id": who.request_id, **(metadata or {})},
        source_ip=who.source_ip,
        user_agent=who.user_agent,
    )
