"""The public key, validation and the public tiers: what a vendor's app calls with no credential."""

from __future__ import annotations

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import catalog, shapes, validation
from services.licensing.publickeys import public_keys


def pubkey(tenant_slug: str) -> dict:
    return public_keys(store(), config().issuer, tenant_slug)


def issuer_public_key(tenant_slug: str) -> dict:
    return public_keys(store(), config().issuer, tenant_slug)


def validate(tenant_slug: str, body: dict) -> dict:
    return validation.validate(
        store(),
        actor(),
        config().issuer,
        tenant_slug,
        key=body["key"],
        product_slug=body.get("product_slug"),
        fingerprint=body.get("fingerprint"),
        hostname=body.get("hostname"),
        platform=body.get("platform"),
        limits=config().limits,
    )


def tiers(tenant_slug: str, product_slug: str) -> dict:
    product, policies = catalog.public_tiers(store(), tenant_slug, product_slug)
    out = shapes.product(product)
    return {
        "product": {
            "slug": out["slug"],
            "name": out["name"],
            "description": out["description"],
            "base_price_sats": product.price_value,
            "price_value": product.price_value,
            "price_currency": product.price_currency,
            "entitlements_catalog": out["entitlements_catalog"],
        },
        "policies": [shapes.tier(p, product) for p in policies],
    }
