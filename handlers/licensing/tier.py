"""The tenant's plan, its usage and its caps (services.licensing.tiers)."""

from __future__ import annotations

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import tiers


def get(tenant_slug: str) -> dict:
    return tiers.tier_of(store(), actor(), config(), tenant_slug)
