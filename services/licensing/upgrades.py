"""Moving a license to another tier of its product, keeping its id: by an admin as a comp
(change-tier), or by its buyer, who pays the prorated difference (upgrade-quote, then upgrade,
whose invoice moves the license once settled).

Proration credits what is left of the current period at the current tier's price and charges
the target tier's price less that credit and any discount code, never below 0; the new tier's
period starts when the move happens. A perpetual license is credited in full, an expired one not
at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from charter.domain import Actor, Conflict, Invalid, InvalidTransition, NotFound
from services.licensing import catalog, codes, licenses, purchases, tenancy
from services.licensing.issuer import KeyRefused
from services.licensing.settings import Licensing
from services.registry.shapes import ts
from store.interface import Session, Store
from store.models import License, LicensePolicy, LicenseProduct, Tenant, utcnow


def _target(s: Session, lic: License, policy_slug: str, *, for_sale: bool) -> tuple[LicenseProduct, LicensePolicy]:
    product = catalog.visible_product(s, lic.tenant_id, lic.product_id)
    policy = s.license_policies.by_slug(product.id, policy_slug)
    if policy is None:
        elsewhere = any(s.license_policies.by_slug(p.id, policy_slug) for p in s.license_products.list(lic.tenant_id))
        if elsewhere:
            raise Invalid(f"the policy {policy_slug!r} is of another product", "policy_product_mismatch")
        raise catalog.policy_not_found(repr(policy_slug))
    if for_sale and not catalog.sellable(policy):
        raise Invalid(f"the policy {policy_slug!r} is not for sale", "policy_unavailable")
    if policy.id == lic.policy_id:
        raise Conflict(f"the license is on {policy_slug!r} already", "same_tier")
    return product, policy


def _credit(s: Session, product: LicenseProduct, lic: License, now: datetime) -> int:
    current = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    paid = purchases.price(product, current)
    if lic.expires_at is None:
        return paid
    length = licenses.period(current) if current else None
    if not length or lic.expires_at <= now:
        return 0
    left = min((lic.expires_at - now) / length, 1.0)
    return int(paid * left)


def _buyer_license(s: Session, config: Licensing, tenant: Tenant, key: str) -> License:
    """The active license a buyer's key stands for; one 404 for every other case."""
    try:
        lic, _ = config.issuer.honoured(s, tenant.id, key)
    except KeyRefused:
        lic = None
    if lic is None or lic.status != "active":
        raise NotFound("no license for that key", "not_found")
    return lic


def _quote(s: Session, config: Licensing, tenant: Tenant, fields: dict[str, Any], now: datetime, *, lock: bool):
    lic = _buyer_license(s, config, tenant, fields["license_key"])
    if lock:
        lic = licenses.visible(s, tenant.id, lic.id, for_update=True)
    product, policy = _target(s, lic, fields["policy_slug"], for_sale=True)
    code = codes.applicable(s, product, fields["code"], now, for_update=lock) if fields.get("code") else None
    price = purchases.price(product, policy)
    credit = min(_credit(s, product, lic, now), price)  # what an upgrade to a cheaper tier is owed is not paid out
    base = price - credit
    current = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    ends = licenses.ends(policy, now)
    quote = {
        "license_id": str(lic.id),
        "from_policy": current.slug if current else "",
        "to_policy": policy.slug,
        "currency": product.price_currency,
        "price_sats": price,
        "credit_sats": credit,
        "discount_applied_sats": codes.discount(code, base),
        "amount_sats": base - codes.discount(code, base),
        "entitlements": list(policy.entitlements),
        **({"expires_at": ts(ends)} if ends else {}),
    }
    return lic, product, policy, code, base, quote


def quote(uow: Store, config: Licensing, slug: str, fields: dict[str, Any]) -> dict:
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
        return _quote(s, config, tenant, fields, utcnow(), lock=False)[-1]


def start(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict[str, Any]) -> dict:
    """An invoice of kind `upgrade` for the quoted amount; settling it moves the license."""
    with uow.write() as s:
        tenant = tenancy.served(s, slug)
        now = utcnow()
        lic, product, policy, code, base, _ = _quote(s, config, tenant, fields, now, lock=True)
        invoice, opened = purchases.open_invoice(
            s,
            actor,
            config,
            product,
            policy,
            base,
            now,
            code=code,
            kind="upgrade",
            license_id=lic.id,
            buyer_email=lic.buyer_email,
            buyer_note=fields.get("buyer_note"),
        )
        return purchases.answer(s, config, slug, invoice, opened)


def change_tier(
    uow: Store, actor: Actor, config: Licensing, slug: str, license_id: UUID, fields: dict[str, Any]
) -> tuple[dict, str]:
    """An admin's comp: the license moves to the tier at once, with no invoice. A revoked license
    stays as it ended (409 invalid_transition), as it does for suspend and unsuspend."""
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        lic = licenses.visible(s, tenant.id, license_id, for_update=True)
        if lic.status == "revoked":
            raise InvalidTransition("a revoked license cannot change tier", "invalid_transition")
        _, policy = _target(s, lic, fields["policy_slug"], for_sale=False)
        out = licenses.retier(s, actor, lic, policy, utcnow(), how="admin", reason=fields.get("reason"))
        moved = licenses.visible(s, tenant.id, license_id)
        return out, config.issuer.key_text(s, moved)
