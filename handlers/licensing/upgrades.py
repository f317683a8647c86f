"""Tier changes: an admin's comp (change-tier), and a buyer's prorated upgrade (quote, start)."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.licensing._common import config, with_key
from services.licensing import upgrades


def change_tier(tenant_slug: str, license_id: str, body: dict) -> dict:
    shape, key = upgrades.change_tier(store(), actor(), config(), tenant_slug, UUID(license_id), body)
    return with_key(shape, key)


def quote(tenant_slug: str, body: dict) -> dict:
    return upgrades.quote(store(), config(), tenant_slug, body)


def start(tenant_slug: str, body: dict) -> dict:
    return upgrades.start(store(), actor(), config(), tenant_slug, body)
