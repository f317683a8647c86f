"""Rotating the tenant's issuer key (services.licensing.rotation)."""

from __future__ import annotations

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import rotation


def rotate(tenant_slug: str) -> dict:
    return rotation.rotate(store(), actor(), config().issuer, tenant_slug)
