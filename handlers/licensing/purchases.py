"""Purchases, their polling, free-code redemption and key recovery: the buyer's public calls."""

from __future__ import annotations

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import purchases


def start(tenant_slug: str, body: dict) -> dict:
    return purchases.start(store(), actor(), config(), tenant_slug, body)


def poll(tenant_slug: str, invoice_id: str) -> dict:
    return purchases.poll(store(), config(), tenant_slug, invoice_id)


def redeem(tenant_slug: str, body: dict) -> dict:
    return purchases.redeem(store(), actor(), config(), tenant_slug, body)


def recover(tenant_slug: str, body: dict) -> dict:
    return purchases.recover(store(), actor(), config(), tenant_slug, body["invoice_id"], body["email"])
