"""Audit events stamped with who acted (the principal), from where, and under which request.

An action taken with a support session is recorded as such: actor_type "support" and, in the
metadata, the session and the reason it was opened for.
"""

from __future__ import annotations

from charter import runtime
from auth.principal import SUPPORT, Principal
from store.models import AuditDraft


def event(
    action: str,
    *,
    tenant_id=None,
    target_type: str,
    target_id,
    target_name=None,
    product=None,
    metadata=None,
    actor: Principal | None = None,
    actor_id: str | None = None,
    actor_type: str | None = None,
) -> AuditDraft:
    """An event for `action`. The actor is the request's principal unless `actor` is given, or,
    before anyone is authenticated (a login), `actor_id` and `actor_type`."""
    who = runtime.caller()
    acting = actor or runtime.principal()
    meta = {"request_id": who.request_id}
    if acting is not None:
        actor_id, actor_type = acting.subject, acting.kind
        if acting.kind == SUPPORT:
            meta["support_session"] = {"id": str(acting.session_id), "reason": acting.reason}
    meta.update(metadata or {})
    return AuditDraft(
        action=action,
        tenant_id=tenant_id,
        actor_id=actor_id,
        actor_type=actor_type or "anonymous",
        target_type=target_type,
        target_id=str(target_id),
        target_name=target_name,
        product=product,
        metadata=meta,
        source_ip=who.source_ip,
        user_agent=who.user_agent,
    )
