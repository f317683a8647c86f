"""Tier caps: how much of its licensing service a tenant's plan (the registry's `plan`) allows.

starter: 5 products and 10 active discount codes; pro: 50 and 100; enterprise: no cap. A plan
this table does not know gets starter's caps. Every product counts, inactive ones too (so turning
one off and on cannot pass the cap); a code counts while it can still be used (active, not
expired, not used up). Over a cap, a create answers 402 `tier_cap` with the `upgrade_url` where
the tenant asks for a bigger plan. The count and the create share one transaction, behind a lock
on the tenant's row, so two creates at once cannot both take the last place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from charter.domain import Actor, PaymentRequired
from services.licensing import apikeys, tenancy
from services.licensing.settings import Licensing
from store.interface import Session, Store
from store.models import DiscountCode, Tenant, utcnow


@dataclass(frozen=True)
class Caps:
    products: int | None  # None: no cap
    active_codes: int | None


CAPS: dict[str, Caps] = {
    "starter": Caps(products=5, active_codes=10),
    "pro": Caps(products=50, active_codes=100),
    "enterprise": Caps(products=None, active_codes=None),
}
DEFAULT_PLAN = "starter"
_WHAT = {"products": "products", "active_codes": "active discount codes"}


def caps_of(tenant: Tenant) -> Caps:
    return CAPS.get(tenant.plan, CAPS[DEFAULT_PLAN])


def live(code: DiscountCode, now: datetime) -> bool:
    """Whether a code can still be used, and so counts against the cap."""
    if not code.active or (code.expires_at is not None and code.expires_at <= now):
        return False
    return not (code.max_redemptions and code.redemptions >= code.max_redemptions)


def usage(s: Session, tenant: Tenant, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {
        "products": len(s.license_products.list(tenant.id)),
        "active_codes": sum(live(c, now) for c in s.discount_codes.list(tenant.id)),
    }


def require_room(s: Session, config: Licensing, tenant: Tenant, kind: str) -> None:
    """PaymentRequired(tier_cap) when the tenant's plan has no room for one more `kind`
    ("products" or "active_codes"). Locks the tenant's row until the transaction ends."""
    s.tenants.get(tenant.id, for_update=True)
    cap = getattr(caps_of(tenant), kind)
    if cap is None:
        return
    used = usage(s, tenant)[kind]
    if used >= cap:
        raise PaymentRequired(
            f"the {tenant.plan} plan allows {cap} {_WHAT[kind]}; this tenant has {used}",
            "tier_cap",
            upgrade_url=config.upgrade_url,
            limit=cap,
            usage=used,
            resource=kind,
        )


def report(s: Session, config: Licensing, tenant: Tenant) -> dict:
    """GET /v1/admin/tier: the plan, its usage and its caps (null: no cap)."""
    caps = caps_of(tenant)
    return {
        "plan": tenant.plan,
        "caps_plan": tenant.plan if tenant.plan in CAPS else DEFAULT_PLAN,
        "usage": usage(s, tenant),
        "caps": {"products": caps.products, "active_codes": caps.active_codes},
        "upgrade_url": config.upgrade_url,
        "sandbox": False,
    }


def tier_of(uow: Store, actor: Actor, config: Licensing, slug: str) -> dict:
    apikeys.require_manager(actor, "reads the tier")
    with uow.read() as s:
        return report(s, config, tenancy.administered(s, actor, slug))
