"""Purchases: an invoice per purchase, opened with a payment provider and settled exactly once,
which issues its one license; free codes redeemed at once; lost keys recovered by invoice and
email. Settling locks the invoice's row, so two settles at once issue one license. Unpaid
invoices expire: at their time a poll answers `expired`, and the `licensing.expire_invoices` job
makes it so in the store (and emits invoice.expired)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict, Event, Invalid, NotFound
from charter.jobs import Context, JobType, Periodic
from services.licensing import catalog, codes, licenses, payments, shapes, tenancy
from services.licensing.settings import Licensing
from store.interface import Session, Store
from store.models import DiscountCode, Invoice, LicensePolicy, LicenseProduct, Tenant, utcnow

EXPIRE_KIND = "licensing.expire_invoices"
EXPIRE_EVERY_S = 60
BATCH = 200


def invoice_not_found(invoice_id: object) -> NotFound:
    return NotFound(f"no invoice {invoice_id}", "invoice_not_found")


def invoice_uuid(text: str) -> UUID | None:
    try:
        return UUID(text.removeprefix("free-").removeprefix("manual-"))
    except ValueError:
        return None


def visible(s: Session, tenant: Tenant, invoice_id: UUID | None, *, for_update: bool = False) -> Invoice:
    invoice = s.invoices.get(invoice_id, for_update=for_update) if invoice_id else None
    if invoice is None or invoice.tenant_id != tenant.id:
        raise invoice_not_found(invoice_id)
    return invoice


def _record(s: Session, actor: Actor, action: str, invoice: Invoice, *, publish: bool = True) -> None:
    """An audit event of the invoice; with publish, also a webhook event (its data, the invoice)."""
    data = shapes.invoice(invoice) if publish else None
    s.record(Event(action, actor, "invoice", str(invoice.id), tenant_id=invoice.tenant_id, data=data))


def settle(s: Session, actor: Actor, config: Licensing, invoice: Invoice, now: datetime) -> Invoice:
    """Do what the invoice was for and mark it settled: a purchase issues its license, an upgrade
    moves its license to the invoice's tier, a renewal extends its license's subscription. The
    caller holds the pending invoice locked."""
    product = s.license_products.get(invoice.product_id)
    policy = s.license_policies.get(invoice.policy_id) if invoice.policy_id else None
    if product is None:
        raise catalog.product_not_found(invoice.product_id)
    if invoice.kind == "purchase":
        overrides = {"buyer_email": invoice.buyer_email}
        lic = licenses.mint(
            s, actor, config.issuer, product, policy, overrides, invoice_id=invoice.id, how=invoice.provider
        )
    else:
        if invoice.license_id is None or policy is None:
            raise Conflict(f"the {invoice.kind} invoice names no license or tier", "conflict")
        lic = licenses.visible(s, invoice.tenant_id, invoice.license_id, for_update=True)
        if invoice.kind == "upgrade":
            licenses.retier(s, actor, lic, policy, now, how="upgrade", invoice_id=invoice.id)
        else:
            licenses.renew(s, actor, lic, policy, now, invoice.id)
    codes.redeemed(s, invoice.code_id, now)
    invoice = replace(invoice, status="settled", license_id=lic.id, settled_at=now, updated_at=now)
    s.invoices.save(invoice)
    _record(s, actor, "invoice.settled", invoice)
    return invoice


def _tier(s: Session, product: LicenseProduct, policy_slug: str | None) -> LicensePolicy | None:
    if policy_slug:
        policy = s.license_policies.by_slug(product.id, policy_slug)
        if policy is None:
            raise catalog.policy_not_found(repr(policy_slug))
        if not catalog.sellable(policy):
            raise Invalid(f"the policy {policy_slug!r} is not for sale", "policy_unavailable")
        return policy
    tiers = [p for p in s.license_policies.list(product.tenant_id, product.id) if catalog.sellable(p)]
    tiers.sort(key=lambda p: (p.tier_rank is None, p.tier_rank or 0))
    return tiers[0] if tiers else None


def _open(
    s: Session, actor: Actor, config: Licensing, tenant: Tenant, fields: dict, *, free_only: bool = False
) -> tuple[Invoice, payments.Opened]:
    """A new invoice for a purchase's (or redemption's) body, opened with its provider, and
    settled at once when nothing is left to pay."""
    product_slug, policy_slug, code = fields["product"], fields.get("policy_slug"), fields.get("code")
    buyer_email, buyer_note = fields.get("buyer_email"), fields.get("buyer_note")
    now = utcnow()
    product = catalog.product_of(s, tenant.id, product_slug)
    if not product.active:
        raise Invalid(f"the product {product_slug!r} is not for sale", "product_inactive")
    policy = _tier(s, product, policy_slug)
    base = price(product, policy)
    found = codes.applicable(s, product, code, now, for_update=True) if code else None
    if free_only and base - codes.discount(found, base) > 0:
        raise codes.not_applicable("it does not make this license free")
    return open_invoice(
        s, actor, config, product, policy, base, now, code=found, buyer_email=buyer_email, buyer_note=buyer_note
    )


def price(product: LicenseProduct, policy: LicensePolicy | None) -> int:
    """What a license of the tier costs before any discount."""
    return policy.price_override if policy and policy.price_override is not None else product.price_value


def open_invoice(
    s: Session,
    actor: Actor,
    config: Licensing,
    product: LicenseProduct,
    policy: LicensePolicy | None,
    base: int,
    now: datetime,
    *,
    code: DiscountCode | None = None,
    kind: str = "purchase",
    license_id: UUID | None = None,
    buyer_email: str | None = None,
    buyer_note: str | None = None,
) -> tuple[Invoice, payments.Opened]:
    """A new invoice of `base` less the code's discount, opened with its provider (the free one
    when nothing is left to pay, which settles it at once)."""
    off = codes.discount(code, base)
    provider = payments.PROVIDERS["free" if base - off <= 0 else payments.DEFAULT]
    invoice = Invoice(
        id=uuid4(),
        tenant_id=product.tenant_id,
        product_id=product.id,
        policy_id=policy.id if policy else None,
        status="pending",
        provider=provider.name,
        provider_invoice_id="",
        amount=base - off,
        base_amount=base,
        discount_amount=off,
        currency=product.price_currency,
        code_id=code.id if code else None,
        buyer_email=buyer_email.strip().lower() if buyer_email else None,
        buyer_note=buyer_note,
        created_at=now,
        updated_at=now,
        expires_at=now + config.invoice_ttl,
        kind=kind,
        license_id=license_id,
    )
    opened = provider.open(invoice)
    invoice = replace(invoice, provider_invoice_id=opened.provider_invoice_id)
    s.invoices.add(invoice)
    _record(s, actor, "invoice.created", invoice, publish=False)
    if invoice.amount <= 0:
        invoice = settle(s, actor, config, invoice, now)
    return invoice, opened


def start(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict) -> dict:
    with uow.write() as s:
        tenant = tenancy.served(s, slug)
        invoice, opened = _open(s, actor, config, tenant, fields)
        return answer(s, config, slug, invoice, opened)


def answer(s: Session, config: Licensing, slug: str, invoice: Invoice, opened: payments.Opened) -> dict:
    """A started invoice as POST /v1/purchase (and /v1/upgrade) answer it, with the license's key
    once it is settled."""
    out = {
        "invoice_id": str(invoice.id),
        "btcpay_invoice_id": invoice.provider_invoice_id,
        "checkout_url": opened.checkout_url,
        "amount_sats": invoice.amount,
        "base_price_sats": invoice.base_amount,
        "discount_applied_sats": invoice.discount_amount,
        "currency": invoice.currency,
        "provider": invoice.provider,
        "poll_url": config.url(slug, f"/v1/purchase/{invoice.id}"),
        "status": invoice.status,
    }
    if invoice.status == "settled" and invoice.license_id is not None:
        lic = licenses.visible(s, invoice.tenant_id, invoice.license_id)
        out.update(license_id=str(lic.id), license_key=config.issuer.key_text(s, lic))
    return out


def _status(invoice: Invoice, now: datetime) -> str:
    return "expired" if invoice.status == "pending" and invoice.expires_at <= now else invoice.status


def poll(uow: Store, config: Licensing, slug: str, invoice_id: str) -> dict:
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
        invoice = visible(s, tenant, invoice_uuid(invoice_id))
        out = {
            "invoice_id": str(invoice.id),
            "status": _status(invoice, utcnow()),
            "product_id": str(invoice.product_id),
            "amount_sats": invoice.amount,
            "currency": invoice.currency,
        }
        if invoice.status == "settled" and invoice.license_id is not None:
            lic = s.licenses.get(invoice.license_id)
            if lic is not None:
                out["license_id"] = str(lic.id)
                if lic.status == "active":
                    out["license_key"] = config.issuer.key_text(s, lic)
        return out


def redeem(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict) -> dict:
    with uow.write() as s:
        tenant = tenancy.served(s, slug)
        invoice, _ = _open(s, actor, config, tenant, fields, free_only=True)
        lic = licenses.visible(s, tenant.id, invoice.license_id) if invoice.license_id else None
        if lic is None:  # a free invoice is settled as it is opened
            raise Conflict("the redemption issued no license", "conflict")
        return {
            "license_id": str(lic.id),
            "license_key": config.issuer.key_text(s, lic),
            "invoice_id": str(invoice.id),
            "redemption_id": str(invoice.id),
            "product_id": str(invoice.product_id),
        }


def recover(uow: Store, actor: Actor, config: Licensing, slug: str, invoice_id: str, email: str) -> dict:
    """The key of a settled purchase, given its invoice and its buyer's email; one generic 404
    for any mismatch, and at most 10 attempts a minute from one address (every worker counts)."""
    config.limits.acquire(uow, "recover", ip=actor.source_ip or "-")
    mismatch = NotFound("no license for that invoice and email", "not_found")
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
        try:
            invoice = visible(s, tenant, invoice_uuid(invoice_id))
        except NotFound:
            raise mismatch from None
        if (
            invoice.status != "settled"
            or invoice.license_id is None
            or not invoice.buyer_email
            or invoice.buyer_email != email.strip().lower()
        ):
            raise mismatch
        lic = s.licenses.get(invoice.license_id)
        if lic is None or lic.status == "revoked":
            raise mismatch
        return {
            "license_key": config.issuer.key_text(s, lic),
            "license_id": str(lic.id),
            "product_id": str(lic.product_id),
            "invoice_id": str(invoice.id),
        }


def mark_paid(uow: Store, actor: Actor, config: Licensing, slug: str, invoice_id: UUID) -> Invoice:
    """Settle a pending manual invoice; a settled one answers as it is (idempotent)."""
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        return settle_pending(s, actor, config, visible(s, tenant, invoice_id, for_update=True))


def settle_pending(s: Session, actor: Actor, config: Licensing, invoice: Invoice) -> Invoice:
    """Settle the (locked) invoice if it is pending; a settled one is as it is (idempotent), an
    expired one Conflict(invoice_expired)."""
    if invoice.status == "settled":
        return invoice
    now = utcnow()
    if _status(invoice, now) != "pending":
        raise Conflict(f"the invoice is {_status(invoice, now)}", "invoice_expired")
    return settle(s, actor, config, invoice, now)


def list_invoices(uow: Store, actor: Actor, slug: str, status: str | None, limit: int) -> list[Invoice]:
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        return s.invoices.list(tenant.id, status=status, limit=limit)


def expire_invoices(context: Context) -> None:
    store, done = context.services.store, 0
    while True:
        with store.write() as s:
            now = utcnow()
            overdue = s.invoices.overdue(now, BATCH)
            for candidate in overdue:
                invoice = s.invoices.get(candidate.id, for_update=True)
                if invoice is not None and invoice.status == "pending" and invoice.expires_at <= now:
                    invoice = replace(invoice, status="expired", updated_at=now)
                    s.invoices.save(invoice)
                    _record(s, context.actor, "invoice.expired", invoice)
                    if invoice.kind == "renewal":
                        licenses.lapse(s, context.actor, invoice.license_id, now)
        done += len(overdue)
        context.progress(done)
        if len(overdue) < BATCH:
            return


JOBS = (JobType(EXPIRE_KIND, expire_invoices, max_attempts=3),)
PERIODIC = (Periodic(EXPIRE_KIND, EXPIRE_EVERY_S),)
