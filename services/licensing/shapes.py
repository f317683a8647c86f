"""Licensing records in the JSON shapes specs/licensing.yaml gives them: what the handlers answer
and what the events carry as `data`. Absent optional fields are left out, never null (the Keysat
client reads a null integer as an error)."""

from __future__ import annotations

from typing import Any

from services.registry.shapes import ts
from store.models import ApiKey, DiscountCode, Invoice, License, LicensePolicy, LicenseProduct, Machine


def _present(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v is not None}


def product(p: LicenseProduct) -> dict:
    return {
        "id": str(p.id),
        "slug": p.slug,
        "name": p.name,
        "description": p.description,
        "price_sats": p.price_value if p.price_currency == "SAT" else 0,
        "price_value": p.price_value,
        "price_currency": p.price_currency,
        "active": p.active,
        "entitlements_catalog": [dict(e) for e in p.entitlements_catalog],
        "metadata": dict(p.metadata),
        "created_at": ts(p.created_at),
        "updated_at": ts(p.updated_at),
    }


def policy(p: LicensePolicy, product_slug: str) -> dict:
    return _present(
        {
            "id": str(p.id),
            "product_id": str(p.product_id),
            "product_slug": product_slug,
            "slug": p.slug,
            "name": p.name,
            "description": p.description,
            "duration_seconds": p.duration_seconds,
            "grace_seconds": p.grace_seconds,
            "max_machines": p.max_machines,
            "heartbeat_window_seconds": p.heartbeat_window_seconds,
            "is_trial": p.is_trial,
            "price_sats_override": p.price_override,
            "entitlements": list(p.entitlements),
            "public": p.public,
            "active": p.active,
            "highlighted": p.highlighted,
            "is_recurring": p.is_recurring,
            "renewal_period_days": p.renewal_period_days,
            "trial_days": p.trial_days,
            "tier_rank": p.tier_rank,
            "archived_at": ts(p.archived_at),
            "metadata": dict(p.metadata),
            "created_at": ts(p.created_at),
            "updated_at": ts(p.updated_at),
        }
    )


def tier(p: LicensePolicy, product: LicenseProduct) -> dict:
    """A policy as the public tier list gives it: every integer present (0, never null)."""
    return {
        "slug": p.slug,
        "name": p.name,
        "description": p.description,
        "price_sats": p.price_override if p.price_override is not None else product.price_value,
        "duration_seconds": p.duration_seconds,
        "max_machines": p.max_machines,
        "is_trial": p.is_trial,
        "entitlements": list(p.entitlements),
        "highlighted": p.highlighted,
        "is_recurring": p.is_recurring,
        "renewal_period_days": p.renewal_period_days,
        "trial_days": p.trial_days,
    }


def license(lic: License, product_slug: str, policy_slug: str | None = None, active_machines: int = 0) -> dict:
    return _present(
        {
            "id": str(lic.id),
            "product_id": str(lic.product_id),
            "product_slug": product_slug,
            "policy_id": str(lic.policy_id) if lic.policy_id else None,
            "policy_slug": policy_slug,
            "status": lic.status,
            "status_reason": lic.status_reason,
            "issued_at": ts(lic.issued_at),
            "expires_at": ts(lic.expires_at),
            "grace_seconds": lic.grace_seconds,
            "max_machines": lic.max_machines,
            "heartbeat_window_seconds": lic.heartbeat_window_seconds,
            "is_trial": lic.is_trial,
            "entitlements": list(lic.entitlements),
            "bound": lic.fingerprint_hash is not None,
            "active_machines": active_machines,
            "buyer_email": lic.buyer_email,
            "note": lic.note,
            "invoice_id": str(lic.invoice_id) if lic.invoice_id else None,
            "subscription": lic.subscription,
            "cancelled_at": ts(lic.cancelled_at),
            "updated_at": ts(lic.updated_at),
        }
    )


def subscription(lic: License, product_slug: str, policy_slug: str | None, **extra: str) -> dict:
    return _present(
        {
            "id": str(lic.id),
            "license_id": str(lic.id),
            "product_id": str(lic.product_id),
            "product_slug": product_slug,
            "policy_slug": policy_slug,
            "status": lic.subscription,
            "renews": lic.subscription == "active",
            "current_period_end": ts(lic.expires_at),
            "cancelled_at": ts(lic.cancelled_at),
            "buyer_email": lic.buyer_email,
            **extra,
        }
    )


def machine(m: Machine) -> dict:
    return _present(
        {
            "id": str(m.id),
            "license_id": str(m.license_id),
            "fingerprint_hash": m.fingerprint_hash,
            "hostname": m.hostname,
            "platform": m.platform,
            "active": m.deactivated_at is None,
            "activated_at": ts(m.activated_at),
            "last_seen_at": ts(m.last_seen_at),
            "seat_expires_at": ts(m.seat_expires_at),
            "deactivated_at": ts(m.deactivated_at),
            "deactivation_reason": m.deactivation_reason,
        }
    )


def code(c: DiscountCode) -> dict:
    return _present(
        {
            "id": str(c.id),
            "label": c.label,
            "product_id": str(c.product_id) if c.product_id else None,
            "percent_off": c.percent_off,
            "amount_off": c.amount_off,
            "max_redemptions": c.max_redemptions,
            "redemptions": c.redemptions,
            "expires_at": ts(c.expires_at),
            "active": c.active,
            "created_at": ts(c.created_at),
        }
    )


def invoice(i: Invoice) -> dict:
    return _present(
        {
            "id": str(i.id),
            "product_id": str(i.product_id),
            "policy_id": str(i.policy_id) if i.policy_id else None,
            "status": i.status,
            "provider": i.provider,
            "provider_invoice_id": i.provider_invoice_id,
            "amount": i.amount,
            "base_amount": i.base_amount,
            "discount_amount": i.discount_amount,
            "currency": i.currency,
            "buyer_email": i.buyer_email,
            "license_id": str(i.license_id) if i.license_id else None,
            "created_at": ts(i.created_at),
            "expires_at": ts(i.expires_at),
            "settled_at": ts(i.settled_at),
            "kind": i.kind,
        }
    )


def api_key(key: ApiKey, role: str) -> dict:
    return _present(
        {
            "id": str(key.id),
            "label": key.name,
            "role": role,
            "scopes": list(key.scopes),
            "prefix": key.prefix,
            "created_at": ts(key.created_at),
            "last_used_at": ts(key.last_used_at),
            "revoked_at": ts(key.revoked_at),
        }
    )
