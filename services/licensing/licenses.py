"""Licenses: issued by hand, by a settled purchase or by a redeemed code (one core, `mint`);
revoked, suspended and unsuspended, each idempotent; listed and searched (never with keys)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Event, InvalidTransition, NotFound
from services.licensing import catalog, shapes, tenancy
from services.licensing.issuer import Issuer
from store.interface import Session, Store
from store.models import License, LicensePolicy, LicenseProduct, utcnow


def not_found(license_id: object) -> NotFound:
    return NotFound(f"no license {license_id}", "license_not_found")


def visible(s: Session, tenant_id: UUID, license_id: UUID, *, for_update: bool = False) -> License:
    found = s.licenses.get(license_id, for_update=for_update)
    if found is None or found.tenant_id != tenant_id:
        raise not_found(license_id)
    return found


def _whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def data(s: Session, lic: License) -> dict:
    """The license in its spec shape, with its product's and policy's slugs and its seats."""
    product = s.license_products.get(lic.product_id)
    policy = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    return shapes.license(
        lic, product.slug if product else "", policy.slug if policy else None, s.machines.count_active(lic.id)
    )


def period(policy: LicensePolicy) -> timedelta | None:
    """How long a license of the policy lasts (a recurring one: its renewal period, or its
    duration when it names none); None: for ever."""
    if policy.is_recurring and policy.renewal_period_days:
        return timedelta(days=policy.renewal_period_days)
    if policy.duration_seconds:
        return timedelta(seconds=policy.duration_seconds)
    return None


def ends(policy: LicensePolicy, start: datetime) -> datetime | None:
    length = period(policy)
    return _whole_seconds(start + length) if length else None


def _recorded(s: Session, actor: Actor, action: str, lic: License, **metadata: Any) -> dict:
    """An audit and webhook event of the license (its data, the license after the change)."""
    out = data(s, lic)
    s.record(
        Event(
            action,
            actor,
            "license",
            str(lic.id),
            tenant_id=lic.tenant_id,
            target_name=out["product_slug"],
            metadata={k: v for k, v in metadata.items() if v is not None},
            data=out,
        )
    )
    return out


def retier(
    s: Session,
    actor: Actor,
    lic: License,
    policy: LicensePolicy,
    now: datetime,
    *,
    how: str,
    invoice_id: UUID | None = None,
    reason: str | None = None,
) -> dict:
    """Move the license (held locked) to `policy`, keeping its id: the tier's entitlements, seats,
    grace, heartbeat window and trial flag, and a new period from now (perpetual when the tier
    is). Its key is derived from the new fields, signed by the issuer key that signed it (so the
    keys it was given before keep validating online, answering with its new fields). Recorded as
    `license.tier_changed`."""
    moved = replace(
        lic,
        policy_id=policy.id,
        expires_at=ends(policy, _whole_seconds(now)),
        grace_seconds=policy.grace_seconds,
        max_machines=policy.max_machines,
        heartbeat_window_seconds=policy.heartbeat_window_seconds,
        is_trial=policy.is_trial,
        entitlements=list(policy.entitlements),
        subscription="active" if policy.is_recurring else None,
        cancelled_at=None,
        updated_at=now,
    )
    s.licenses.save(moved)
    before = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    return _recorded(
        s,
        actor,
        "license.tier_changed",
        moved,
        how=how,
        from_policy=before.slug if before else None,
        to_policy=policy.slug,
        invoice_id=str(invoice_id) if invoice_id else None,
        reason=reason,
    )


def renew(
    s: Session, actor: Actor, lic: License, policy: LicensePolicy, now: datetime, invoice_id: UUID | None
) -> dict:
    """Extend a subscription (its license held locked) by one period of its policy, from where
    the last one ended (from now, when that is long past its grace). Recorded as `license.renewed`."""
    start = lic.expires_at or now
    if start + timedelta(seconds=lic.grace_seconds) < now:
        start = now
    renewed = replace(lic, expires_at=ends(policy, start), subscription="active", updated_at=now)
    s.licenses.save(renewed)
    return _recorded(
        s, actor, "license.renewed", renewed, invoice_id=str(invoice_id) if invoice_id else None, policy=policy.slug
    )


def mint(
    s: Session,
    actor: Actor,
    issuer: Issuer,
    product: LicenseProduct,
    policy: LicensePolicy | None,
    overrides: dict[str, Any] | None = None,
    *,
    invoice_id: UUID | None = None,
    how: str = "admin",
) -> License:
    """A new license of `product` under `policy` (or the product's defaults), each override given
    replacing the policy's value; recorded as `license.issued`."""
    given = overrides or {}
    now = _whole_seconds(utcnow())
    expires_at = given.get("expires_at")
    if expires_at is None and policy is not None:
        expires_at = ends(policy, now)
    entitlements = (
        catalog.check_entitlements(product, given["entitlements"])
        if given.get("entitlements") is not None
        else list(policy.entitlements if policy else [])
    )

    def pick(name: str, default: Any) -> Any:
        value = given.get(name)
        return value if value is not None else (getattr(policy, name) if policy else default)

    lic = License(
        id=uuid4(),
        tenant_id=product.tenant_id,
        product_id=product.id,
        policy_id=policy.id if policy else None,
        issuer_key_id=issuer.signing_key(s, product.tenant_id).id,
        status="active",
        issued_at=now,
        updated_at=now,
        expires_at=_whole_seconds(expires_at) if expires_at else None,
        grace_seconds=pick("grace_seconds", 0),
        max_machines=pick("max_machines", 1),
        heartbeat_window_seconds=pick("heartbeat_window_seconds", 0),
        is_trial=pick("is_trial", False),
        entitlements=entitlements,
        buyer_email=(given.get("buyer_email") or None) and given["buyer_email"].strip().lower(),
        note=given.get("note"),
        invoice_id=invoice_id,
        subscription="active" if policy is not None and policy.is_recurring else None,
    )
    s.licenses.add(lic)
    s.record(
        Event(
            "license.issued",
            actor,
            "license",
            str(lic.id),
            tenant_id=lic.tenant_id,
            target_name=product.slug,
            metadata={"how": how, **({"invoice_id": str(invoice_id)} if invoice_id else {})},
            data=shapes.license(lic, product.slug, policy.slug if policy else None),
        )
    )
    return lic


def issue(uow: Store, actor: Actor, issuer: Issuer, slug: str, fields: dict[str, Any]) -> tuple[dict, str]:
    """A license issued by hand: its shape and its key."""
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        product = catalog.product_of(s, tenant.id, fields["product_slug"])
        policy = None
        if fields.get("policy_slug"):
            policy = s.license_policies.by_slug(product.id, fields["policy_slug"])
            if policy is None:
                raise catalog.policy_not_found(repr(fields["policy_slug"]))
        lic = mint(s, actor, issuer, product, policy, fields)
        return data(s, lic), issuer.key_text(s, lic)


def get(uow: Store, actor: Actor, issuer: Issuer, slug: str, license_id: UUID) -> tuple[dict, str]:
    with uow.read() as s:
        lic = visible(s, tenancy.administered(s, actor, slug).id, license_id)
        return data(s, lic), issuer.key_text(s, lic)


def listing(
    uow: Store,
    actor: Actor,
    slug: str,
    *,
    product_id: UUID | None = None,
    buyer_email: str | None = None,
    invoice_id: UUID | None = None,
    limit: int = 100,
) -> list[dict]:
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        email = buyer_email.strip().lower() if buyer_email else None
        found = s.licenses.list(tenant.id, product_id=product_id, buyer_email=email, invoice_id=invoice_id, limit=limit)
        return [data(s, lic) for lic in found]


def subscription_shape(s: Session, lic: License, **extra: str) -> dict:
    product = s.license_products.get(lic.product_id)
    policy = s.license_policies.get(lic.policy_id) if lic.policy_id else None
    return shapes.subscription(lic, product.slug if product else "", policy.slug if policy else None, **extra)


def move_subscription(s: Session, actor: Actor, lic: License, status: str, now: datetime, **extra: str) -> dict:
    """Save the license with its subscription at `status`; an audit and webhook event of it."""
    cancelled_at = now if status == "cancelled" else lic.cancelled_at
    lic = replace(lic, subscription=status, updated_at=now, cancelled_at=cancelled_at)
    s.licenses.save(lic)
    out = subscription_shape(s, lic, **extra)
    s.record(
        Event(
            f"subscription.{status}",
            actor,
            "license",
            str(lic.id),
            tenant_id=lic.tenant_id,
            target_name=out["product_slug"],
            data=out,
        )
    )
    return out


def lapse(s: Session, actor: Actor, license_id: UUID | None, now: datetime) -> None:
    """A renewal invoice expired unpaid: its subscription ends, if it still waits on it."""
    lic = s.licenses.get(license_id, for_update=True) if license_id else None
    if lic is not None and lic.subscription == "past_due":
        move_subscription(s, actor, lic, "ended", now)


# verb -> (the status it leads to, the statuses it may leave, the event it records)
MOVES = {
    "revoke": ("revoked", ("active", "suspended"), "license.revoked"),
    "suspend": ("suspended", ("active",), "license.suspended"),
    "unsuspend": ("active", ("suspended",), "license.unsuspended"),
}


def change_status(uow: Store, actor: Actor, slug: str, license_id: UUID, verb: str, reason: str | None) -> dict:
    """Revoke, suspend or unsuspend. A license already where the move leads answers as it is
    (idempotent); a revoked one refuses the others (409 invalid_transition)."""
    target, sources, action = MOVES[verb]
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        lic = visible(s, tenant.id, license_id, for_update=True)
        if lic.status == target:
            return data(s, lic)
        if lic.status not in sources:
            raise InvalidTransition(f"a {lic.status} license cannot be {target}", "invalid_transition")
        lic = replace(lic, status=target, status_reason=reason if target != "active" else None, updated_at=utcnow())
        s.licenses.save(lic)
        return _recorded(s, actor, action, lic, reason=reason or None)
