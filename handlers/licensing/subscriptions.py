"""Subscriptions: list and cancel (admin), and a buyer's cancel by license key."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import subscriptions


def list_subscriptions(tenant_slug: str, status: str | None = None, limit: int = 100) -> dict:
    return {"items": subscriptions.listing(store(), actor(), tenant_slug, status, limit)}


def cancel(tenant_slug: str, subscription_id: str) -> dict:
    return subscriptions.cancel(store(), actor(), tenant_slug, UUID(subscription_id))


def cancel_by_key(tenant_slug: str, body: dict) -> dict:
    return subscriptions.cancel_by_key(store(), actor(), config(), tenant_slug, body)
