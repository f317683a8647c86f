"""Tenants, entitlements and API keys in the JSON shapes specs/registry.yaml gives them: what the
handlers answer and what their events carry as `data` (a webhook delivery's payload). Absent
optional strings are omitted."""

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
