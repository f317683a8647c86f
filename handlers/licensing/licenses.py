"""Licenses: issue by hand, list, search, read (with the key), revoke, suspend, unsuspend."""

from __future__ import annotations

from uuid import UUID

from charter.formats import parse_date_time
from charter.runtime import actor, store
from handlers.licensing._common import config, with_key
from services.licensing import licenses


def list_licenses(tenant_slug: str, product_id: str | None = None, limit: int = 100) -> dict:
    found = licenses.listing(
        store(), actor(), tenant_slug, product_id=UUID(product_id) if product_id else None, limit=limit
    )
    return {"items": found}


def search(tenant_slug: str, buyer_email: str | None = None, invoice_id: str | None = None, limit: int = 100) -> dict:
    found = licenses.listing(
        store(),
        actor(),
        tenant_slug,
        buyer_email=buyer_email,
        invoice_id=UUID(invoice_id) if invoice_id else None,
        limit=limit,
    )
    return {"items": found}


def issue(tenant_slug: str, body: dict) -> tuple[dict, int]:
    fields = dict(body)
    if fields.get("expires_at"):
        fields["expires_at"] = parse_date_time(fields["expires_at"])
    shape, key = licenses.issue(store(), actor(), config().issuer, tenant_slug, fields)
    return with_key(shape, key), 201


def get(tenant_slug: str, license_id: str) -> dict:
    shape, key = licenses.get(store(), actor(), config().issuer, tenant_slug, UUID(license_id))
    return with_key(shape, key)


def _move(verb: str, tenant_slug: str, license_id: str, body: dict | None) -> dict:
    reason = (body or {}).get("reason")
    return licenses.change_status(store(), actor(), tenant_slug, UUID(license_id), verb, reason)


def revoke(tenant_slug: str, license_id: str, body: dict | None = None) -> dict:
    return _move("revoke", tenant_slug, license_id, body)


def suspend(tenant_slug: str, license_id: str, body: dict | None = None) -> dict:
    return _move("suspend", tenant_slug, license_id, body)


def unsuspend(tenant_slug: str, license_id: str, body: dict | None = None) -> dict:
    return _move("unsuspend", tenant_slug, license_id, body)
