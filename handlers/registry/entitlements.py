"""A tenant's product entitlements."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from charter import runtime
from charter.formats import parse_date_time
from charter.runtime import actor, store
from handlers.registry import _wire
from services.registry import entitlements
from services.registry.catalog import Catalog


def list_for_tenant(tenant_id: str) -> dict:
    return {"items": [_wire.entitlement(e) for e in entitlements.list_for_tenant(store(), actor(), UUID(tenant_id))]}


def grant(body: dict) -> tuple[dict, int]:
    expires_at = body.get("expires_at")
    entitlement = entitlements.grant(
        store(),
        actor(),
        runtime.services().get(Catalog),
        tenant_id=UUID(body["tenant_id"]),
        product=body["product"],
        expires_at=None if expires_at is None else parse_date_time(expires_at),
        config=body.get("config"),
    )
    return _wire.entitlement(entitlement), 201


def remove(tenant_id: str, product: str) -> tuple[object, int]:
    entitlements.remove(store(), actor(), tenant_id=UUID(tenant_id), product=product)
    return NoContent, 204
