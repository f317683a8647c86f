"""The product catalog, product requests and self-serve trials."""

from __future__ import annotations

from connexion import NoContent

from auth import audit as _audit
from charter import runtime
from charter.errors import ApiError
from handlers.registry import _tenancy, _wire
from store.errors import Conflict
from store.models import INACTIVE_TENANT_STATUSES, Entitlement, utcnow


def list_products():
    return {"items": [p.to_wire() for p in runtime.services().catalog.products]}


def _product(key: str):
    product = runtime.services().catalog.get(key)
    if product is None:
        raise ApiError(404, f"no product {key!r} in the catalog", "product_not_found")
    return product


def request_product(body):
    product = _product(body["product"])
    with runtime.store().write() as s:
        tenant = _tenancy.existing(s, body["tenant_id"], for_update=True)
        s.audit.append(
            _audit.event(
                "catalog.requested",
                tenant_id=tenant.id,
                target_type="product",
                target_id=product.key,
                target_name=product.name,
                product=product.key,
            )
        )
    return NoContent, 202


def request_trial(body):
    product = _product(body["product"])
    if not product.supports_trial:
        raise ApiError(400, f"{product.key!r} has no self-serve trial", "trial_not_supported")
    now = utcnow()
    try:
        with runtime.store().write() as s:
            tenant = _tenancy.existing(s, body["tenant_id"], for_update=True)
            if tenant.status in INACTIVE_TENANT_STATUSES:
                raise ApiError(409, f"a {tenant.status} tenant cannot start trials", "tenant_inactive")
            entitlement = Entitlement(
                tenant_id=tenant.id,
                product=product.key,
                enabled=True,
                config={"trial": True},
                expires_at=now + _tenancy.TRIAL,
                created_at=now,
                updated_at=now,
            )
            s.entitlements.add(entitlement)
            s.audit.append(
                _audit.event(
                    "entitlement.trial_started",
                    tenant_id=tenant.id,
                    target_type="entitlement",
                    target_id=product.key,
                    product=product.key,
                    metadata={"expires_at": _wire.ts(entitlement.expires_at)},
                )
            )
    except Conflict:
        raise ApiError(
            409,
            f"the tenant already holds {product.key!r} or has had its trial",
            "already_entitled",
        ) from None
    return _wire.entitlement(entitlement), 201
