"""Signed provider webhooks: how a payment provider tells a tenant's licensing service that an
invoice is paid (POST /licensing/{slug}/v1/payments/{provider}/webhook).

The request is signed as Standard Webhooks 1.0 sign their deliveries: headers `webhook-id`,
`webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, several space-separated), under the tenant's provider secret. That secret
is derived, never stored: `whsec_` and the base64 of HKDF-SHA256 under CHARTER_SECRET_KEY with
the label `licensing-provider-webhook:<tenant id>:<provider>` (charter.sealing). A tenant_admin
reads it at GET /v1/admin/payments/{provider}/webhook-secret, to configure the provider with.

A missing or wrong signature answers 401 `bad_signature`, a timestamp more than five minutes
from now 401 `stale_timestamp`. The body `{"type": "invoice.paid", "data": {"invoice_id": …}}`
names the invoice by our id or the provider's (`manual-<id>`); settling is idempotent, so a
replayed delivery settles nothing more, and an expired invoice answers 409 `invoice_expired`.
"""

from __future__ import annotations

import base64
import hmac
import time
from dataclasses import replace

from charter.domain import SYSTEM, Actor, NotFound, Unauthorized
from services.licensing import apikeys, payments, purchases, tenancy
from services.licensing.settings import Licensing
from services.webhooks import signing
from store.interface import Store

TOLERANCE_S = 300  # how far a delivery's timestamp may be from now
HOOKED = frozenset({"manual"})  # the providers whose invoices a signed webhook may settle


def secret(config: Licensing, tenant_id: object, provider: str) -> str:
    label = f"licensing-provider-webhook:{tenant_id}:{provider}".encode()
    return signing.PREFIX + base64.b64encode(config.issuer.sealer.derive(label)).decode()


def _provider(provider: str) -> str:
    if provider not in HOOKED or provider not in payments.PROVIDERS:
        raise NotFound(f"no payment provider {provider!r} takes webhooks here", "provider_not_found")
    return provider


def check(key: str, msg_id: str | None, stamp: str | None, signatures: str | None, body: bytes) -> None:
    """Unauthorized unless one of `signatures` signs (msg_id, stamp, body) under `key`, at a
    timestamp inside the tolerance."""
    if not (msg_id and stamp and signatures):
        raise Unauthorized("the delivery is not signed (webhook-id, -timestamp and -signature)", "bad_signature")
    try:
        at = int(stamp)
    except ValueError:
        raise Unauthorized("webhook-timestamp is not Unix seconds", "bad_signature") from None
    if abs(time.time() - at) > TOLERANCE_S:
        raise Unauthorized("webhook-timestamp is more than five minutes from now", "stale_timestamp")
    expected = signing.signature(key, msg_id, at, body).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures.split()):
        raise Unauthorized("no signature of the delivery verifies", "bad_signature")


def receive(
    uow: Store,
    actor: Actor,
    config: Licensing,
    slug: str,
    provider: str,
    *,
    headers: dict[str, str | None],
    raw: bytes,
    invoice_ref: str,
) -> dict:
    provider = _provider(provider)
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
    check(
        secret(config, tenant.id, provider),
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
        raw,
    )
    payer = replace(actor, kind=SYSTEM, id=f"payments:{provider}", tenant_id=tenant.id)
    with uow.write() as s:
        tenant = tenancy.served(s, slug)
        invoice = purchases.visible(s, tenant, purchases.invoice_uuid(invoice_ref), for_update=True)
        if invoice.provider != provider:
            raise purchases.invoice_not_found(invoice_ref)
        invoice = purchases.settle_pending(s, payer, config, invoice)
    return {"ok": True, "invoice_id": str(invoice.id), "status": invoice.status, "license_id": str(invoice.license_id)}


def secret_of(uow: Store, actor: Actor, config: Licensing, slug: str, provider: str) -> dict:
    apikeys.require_manager(actor, "reads a payment provider's webhook secret")
    provider = _provider(provider)
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
    return {
        "provider": provider,
        "secret": secret(config, tenant.id, provider),
        "url": config.url(slug, f"/v1/payments/{provider}/webhook"),
        "tolerance_seconds": TOLERANCE_S,
    }
