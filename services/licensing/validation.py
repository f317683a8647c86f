"""POST /v1/validate: whether a presented key is good now, always as an answer with `ok`.

The checks, in order: the caller's rate (`rate_limited`: per client address and per key, counted
in each worker, auth.ratelimit), the key's form (`bad_format`), its signature by this tenant's issuer
(`bad_signature`; a key of another tenant fails here), its license (`not_found`), the license's
status (`revoked`, `suspended`), the product asked about (`product_mismatch`), the expiry
(`expired` once the grace period is over; inside it, ok with `in_grace_period`), the fingerprint
(`fingerprint_mismatch`), and the seats (`too_many_machines`). With a fingerprint, a good key takes
a seat for it (services.licensing.seats).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import UUID

from auth.ratelimit import Limits
from charter.domain import Actor
from services.licensing import keys, seats, tenancy
from services.licensing.issuer import Issuer, KeyRefused, fingerprint_hash
from services.registry.shapes import ts
from store.interface import Session, Store
from store.models import License, Machine, utcnow

_SLUGS: dict[UUID, str] = {}  # product id -> slug, per worker: a product's slug never changes
_SLUGS_KEPT = 10_000


def _product_slug(s: Session, product_id: UUID) -> str:
    slug = _SLUGS.get(product_id)
    if slug is None:
        product = s.license_products.get(product_id)
        if product is None:
            return ""
        if len(_SLUGS) >= _SLUGS_KEPT:
            _SLUGS.clear()
        slug = _SLUGS[product_id] = product.slug
    return slug


def _fields(s: Session, lic: License) -> dict:
    out: dict = {
        "license_id": str(lic.id),
        "product_id": str(lic.product_id),
        "product_slug": _product_slug(s, lic.product_id),
        "issued_at": ts(lic.issued_at),
        "is_trial": lic.is_trial,
        "entitlements": list(lic.entitlements),
        "status": lic.status,
        "max_machines": lic.max_machines,
    }
    if lic.expires_at is not None:
        out["expires_at"] = ts(lic.expires_at)
    return out


def _refusal(reason: str, s: Session | None = None, lic: License | None = None) -> dict:
    out = {"ok": False, "reason": reason}
    if s is not None and lic is not None:
        out.update(_fields(s, lic))
    return out


def validate(
    uow: Store,
    actor: Actor,
    issuer: Issuer,
    slug: str,
    *,
    key: str,
    product_slug: str | None = None,
    fingerprint: str | None = None,
    hostname: str | None = None,
    platform: str | None = None,
    limits: Limits | None = None,
) -> dict:
    if limits is not None and not limits.fits_here("validate", ip=actor.source_ip, key=key):
        return _refusal("rate_limited")
    now = utcnow()
    with uow.write() if fingerprint else uow.read() as s:
        tenant, known = tenancy.served_with(s, slug, keys.license_id_of(key), now)
        try:
            lic, payload = issuer.honoured(s, tenant.id, key, read=(known,))
        except KeyRefused as refused:
            return _refusal(refused.reason, s, refused.license)
        if lic.status != "active":
            return _refusal(lic.status, s, lic)
        out = {"ok": True, **_fields(s, lic)}
        if product_slug is not None and product_slug != out["product_slug"]:
            return _refusal("product_mismatch", s, lic)
        if lic.expires_at is not None and now >= lic.expires_at:
            grace_until = lic.expires_at + timedelta(seconds=lic.grace_seconds)
            if now >= grace_until:
                return _refusal("expired", s, lic)
            out.update(in_grace_period=True, grace_until=ts(grace_until))
        if fingerprint:
            signed = payload.fingerprint_sha256
            if signed is not None and signed != hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).digest():
                return _refusal("fingerprint_mismatch", s, lic)
            lic = s.licenses.get(lic.id, for_update=True) or lic
            machine: Machine | None
            machine, why, _ = seats.take(s, actor, lic, fingerprint_hash(fingerprint), hostname, platform, now)
            if machine is None:
                return _refusal(why or "too_many_machines", s, lic)
            out["machine_id"] = str(machine.id)
        return out
