"""Discount codes: only each code's SHA-256 is kept (codes match whatever their letter case). A
code takes `percent_off` (100: a free-license code for POST /v1/redeem) or `amount_off` off a
price; `max_redemptions` caps its uses (0: no cap), counted when a purchase settles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict, Event, Invalid
from services.licensing import catalog, tenancy, tiers
from services.licensing.settings import Licensing
from store import errors as store_errors
from store.interface import Session, Store
from store.models import DiscountCode, LicenseProduct, utcnow

LABEL_CHARS = 4
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("utf-8", "surrogatepass")).hexdigest()


def not_applicable(why: str) -> Invalid:
    return Invalid(f"the code does not apply: {why}", "invalid_code")


def create(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict[str, Any]) -> tuple[DiscountCode, str]:
    text = fields.get("code") or "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
    percent, amount = fields.get("percent_off", 0), fields.get("amount_off", 0)  # the spec wants one
    now = utcnow()
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        tiers.require_room(s, config, tenant, "active_codes")
        product_id = catalog.product_of(s, tenant.id, fields["product_slug"]).id if fields.get("product_slug") else None
        code = DiscountCode(
            id=uuid4(),
            tenant_id=tenant.id,
            code_hash=code_hash(text),
            label=text.strip().upper()[:LABEL_CHARS] + "…",
            product_id=product_id,
            percent_off=percent,
            amount_off=amount,
            max_redemptions=fields.get("max_redemptions", 0),
            expires_at=fields.get("expires_at"),
            created_at=now,
            updated_at=now,
        )
        try:
            s.discount_codes.add(code)
        except store_errors.Conflict:
            raise Conflict("the tenant has this code already", "code_taken") from None
        s.record(
            Event(
                "discount_code.created",
                actor,
                "discount_code",
                str(code.id),
                tenant_id=tenant.id,
                target_name=code.label,
            )
        )
    return code, text


def list_codes(uow: Store, actor: Actor, slug: str) -> list[DiscountCode]:
    with uow.read() as s:
        return s.discount_codes.list(tenancy.administered(s, actor, slug).id)


def applicable(
    s: Session, product: LicenseProduct, text: str, now: datetime, *, for_update: bool = False
) -> DiscountCode:
    """The tenant's code `text`, if it applies to the product now; Invalid(invalid_code) else."""
    code = s.discount_codes.by_hash(product.tenant_id, code_hash(text), for_update=for_update)
    if code is None or not code.active:
        raise not_applicable("unknown or inactive")
    if code.product_id is not None and code.product_id != product.id:
        raise not_applicable("it is for another product")
    if code.expires_at is not None and code.expires_at <= now:
        raise not_applicable("it has expired")
    if code.max_redemptions and code.redemptions >= code.max_redemptions:
        raise not_applicable("it has been used up")
    return code


def discount(code: DiscountCode | None, price: int) -> int:
    if code is None:
        return 0
    off = price * code.percent_off // 100 + code.amount_off
    return min(price, off)


def redeemed(s: Session, code_id: UUID | None, now: datetime) -> None:
    """Count one use of the code (the caller holds it locked, and checked it still applies)."""
    if code_id is None:
        return
    code = s.discount_codes.get(code_id, for_update=True)
    if code is not None:
        s.discount_codes.save(replace(code, redemptions=code.redemptions + 1, updated_at=now))
