"""Records to the JSON shapes of specs/registry.yaml. Absent optional strings are omitted."""

from __future__ import annotations

from services.registry.shapes import api_key, entitlement, tenant, ts

__all__ = ["api_key", "audit_event", "entitlement", "product", "tenant", "ts"]


def product(p) -> dict:
    out = {
        "key": p.key,
        "name": p.name,
        "description": p.description,
        "plans_required": list(p.plans_required),
        "supports_trial": p.supports_trial,
    }
    if p.demo_url:
        out["demo_url"] = p.demo_url
    return out


_AUDIT_TEXT = (
    "actor_id",
    "actor_name",
    "actor_type",
    "action",
    "target_id",
    "target_type",
    "target_name",
    "product",
    "source_ip",
    "user_agent",
)


def audit_event(e) -> dict:
    out = {"id": e.id, "created_at": ts(e.created_at)}
    if e.tenant_id is not None:
        out["tenant_id"] = str(e.tenant_id)
    if e.project_id is not None:
        out["project_id"] = str(e.project_id)
    for key in _AUDIT_TEXT:
        if getattr(e, key) is not None:
            out[key] = getattr(e, key)
    if e.metadata is not None:
        out["metadata"] = e.metadata
    if e.recorded_by_kind is not None:
        recorder: dict = {"kind": e.recorded_by_kind}
        if e.recorded_by_id is not None:
            recorder["id"] = e.recorded_by_id
        if e.recorded_by_tenant_id is not None:
            recorder["tenant_id"] = str(e.recorded_by_tenant_id)
        out["recorded_by"] = recorder
    return out
