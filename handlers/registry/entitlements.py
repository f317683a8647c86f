"""A tenant's product entitlements."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.registry import _wire
from services.registry import entitlements


def list_for_tenant(tenant_id: str) -> dict:
    return {"items": [_wire.entitlement(e) for e in entitlements.list_for_tenant(store(), actor(), UUID(tenant_id))]}
