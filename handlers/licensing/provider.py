"""A payment provider's signed webhook, and the secret a tenant_admin configures it with."""

from __future__ import annotations

from charter.runtime import actor, caller, store
from handlers.licensing._common import config
from services.licensing import provider_hooks

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def webhook(tenant_slug: str, provider: str, body: dict, raw_body: bytes) -> dict:
    return provider_hooks.receive(
        store(),
        actor(),
        config(),
        tenant_slug,
        provider,
        headers={name: caller().header(name.encode()) for name in HEADERS},
        raw=raw_body,
        invoice_ref=body["data"]["invoice_id"],
    )


def secret(tenant_slug: str, provider: str) -> dict:
    return provider_hooks.secret_of(store(), actor(), config(), tenant_slug, provider)
