"""Subscriptions: the recurring side of a license of a recurring tier, kept on the license itself
(its id is the license's). At the end of each period the `licensing.renew_subscriptions` job
renews an active subscription: at once when its tier costs nothing, else through a renewal
invoice (the subscription is past_due until it is settled, which extends the license by a period;
it ends when that invoice expires unpaid). A cancelled subscription runs to the end of its period,
then ends; its license expires as any license does, after its grace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from charter.domain import Actor, Conflict, InvalidTransition, NotFound
from charter.jobs import Context, JobType, Periodic
from services.licensing import licenses, purchases, tenancy
from services.licensing.issuer import KeyRefused
from services.licensing.settings import Licensing
from store.interface import Session, Store
from store.models import License, utcnow

RENEW_KIND = "licensing.renew_subscriptions"
RENEW_EVERY_S = 60
BATCH = 200


def listing(uow: Store, actor: Actor, slug: str, status: str | None, limit: int) -> list[dict]:
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        return [
            licenses.subscription_shape(s, lic)
            for lic in s.licenses.subscriptions(tenant.id, status=status, limit=limit)
        ]


def _cancel(s: Session, actor: Actor, lic: License) -> dict:
    """Idempotent: a cancelled subscription answers as it is; an ended one cannot be cancelled."""
    if lic.subscription is None:
        raise Conflict("the license does not recur", "not_a_subscription")
    if lic.subscription == "cancelled":
        return licenses.subscription_shape(s, lic)
    if lic.subscription == "ended":
        raise InvalidTransition("the subscription has ended", "invalid_transition")
    return licenses.move_subscription(s, actor, lic, "cancelled", utcnow())


def cancel(uow: Store, actor: Actor, slug: str, license_id: UUID) -> dict:
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        try:
            lic = licenses.visible(s, tenant.id, license_id, for_update=True)
        except NotFound:
            raise NotFound(f"no subscription {license_id}", "subscription_not_found") from None
        if lic.subscription is None:
            raise NotFound(f"no subscription {license_id}", "subscription_not_found")
        return _cancel(s, actor, lic)


def cancel_by_key(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict[str, Any]) -> dict:
    """A buyer's cancel: the key is the credential, and every key refused answers one 404."""
    with uow.write() as s:
        tenant = tenancy.served(s, slug)
        try:
            lic, _ = config.issuer.honoured(s, tenant.id, fields["license_key"])
        except KeyRefused:
            raise NotFound("no license for that key", "not_found") from None
        return _cancel(s, actor, licenses.visible(s, tenant.id, lic.id, for_update=True))


def _renew_one(s: Session, actor: Actor, config: Licensing, lic: License, now: datetime) -> None:
    if lic.subscription == "cancelled":
        licenses.move_subscription(s, actor, lic, "ended", now)
        return
    product = s.license_products.get(lic.product_id)
    policy = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    if product is None or policy is None or policy.archived_at is not None or not licenses.period(policy):
        licenses.move_subscription(s, actor, lic, "ended", now)  # an archived tier refuses renewals
        return
    invoice, _ = purchases.open_invoice(
        s,
        actor,
        config,
        product,
        policy,
        purchases.price(product, policy),
        now,
        kind="renewal",
        license_id=lic.id,
        buyer_email=lic.buyer_email,
    )
    if invoice.status != "settled":  # a tier that costs nothing renews as its invoice opens
        licenses.move_subscription(
            s, actor, licenses.visible(s, lic.tenant_id, lic.id), "past_due", now, renewal_invoice_id=str(invoice.id)
        )


def renew_due(context: Context) -> None:
    config, store, done = context.services.get(Licensing), context.services.store, 0
    while True:
        with store.write() as s:
            now = utcnow()
            due = s.licenses.renewing(now, BATCH)
            for candidate in due:
                lic = s.licenses.get(candidate.id, for_update=True)
                if lic is not None and lic.subscription in ("active", "cancelled") and lic.expires_at is not None:
                    if lic.expires_at <= now:
                        _renew_one(s, context.actor, config, lic, now)
        done += len(due)
        context.progress(done)
        if len(due) < BATCH:
            return


JOBS = (JobType(RENEW_KIND, renew_due, max_attempts=3),)
PERIODIC = (Periodic(RENEW_KIND, RENEW_EVERY_S),)
