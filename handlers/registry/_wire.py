"""Records to the JSON shapes of specs/registry.yaml. Absent optional strings are omitted."""

from __future__ import annotations

from datetime import datetime

from charter.formats import format_date_time


def ts(value: datetime | None) -> str | None:
    return None if value is None else format_date_time(value)


def _drop_none(out: dict, *keys: str) -> dict:
    for key in keys:
        if out.get(key) is None:
            out.pop(key, None)
    return out


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


def tenant(t) -> dict:
    return _drop_none(
        {
            "id": str(t.id),
            "slug": t.slug,
            "name": t.name,
            "status": t.status,
            "kind": t.kind,
            "plan": t.plan,
            "erp_customer_id": t.erp_customer_id,
            "stripe_cust_id": t.stripe_cust_id,
            "trial_ends_at": ts(t.trial_ends_at),
            "contract_start": t.contract_start.isoformat() if t.contract_start else None,
            "contract_end": t.contract_end.isoformat() if t.contract_end else None,
            "sales_owner": t.sales_owner,
            "created_at": ts(t.created_at),
            "updated_at": ts(t.updated_at),
        },
        "erp_customer_id",
        "stripe_cust_id",
        "sales_owner",
    )


def entitlement(e) -> dict:
    return {
        "tenant_id": str(e.tenant_id),
        "product": e.product,
        "enabled": e.enabled,
        "config": e.config or {},
        "expires_at": ts(e.expires_at),
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
    }


def api_key(k) -> dict:
    return _drop_none(
        {
            "id": str(k.id),
            "tenant_id": str(k.tenant_id),
            "product": k.product,
            "name": k.name,
            "scopes": list(k.scopes),
            "prefix": k.prefix,
            "created_by": k.created_by,
            "last_used_at": ts(k.last_used_at),
            "revoked_at": ts(k.revoked_at),
            "created_at": ts(k.created_at),
        },
        "product",
        "created_by",
    )


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
