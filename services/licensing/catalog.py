"""A tenant's products (each with its entitlement catalog) and their policies (tiers)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict, Event, Invalid, NotFound
from services.licensing import tenancy, tiers
from services.licensing.settings import Licensing
from store import errors as store_errors
from store.interface import Session, Store
from store.models import LicensePolicy, LicenseProduct, utcnow


def product_not_found(what: object) -> NotFound:
    return NotFound(f"no product {what}", "product_not_found")


def policy_not_found(what: object) -> NotFound:
    return NotFound(f"no policy {what}", "policy_not_found")


def _event(action: str, actor: Actor, target_type: str, target_id: UUID, tenant_id: UUID, name: str, **meta) -> Event:
    return Event(action, actor, target_type, str(target_id), tenant_id=tenant_id, target_name=name, metadata=meta)


def _catalog(entries: list[dict] | None) -> list[dict]:
    out, seen = [], set()
    for entry in entries or []:
        slug = entry["slug"]
        if slug in seen:
            raise Invalid(f"the entitlement {slug!r} is in the catalog twice", "duplicate_entitlement")
        seen.add(slug)
        out.append({"slug": slug, "name": entry.get("name") or slug, "description": entry.get("description") or ""})
    return out


def check_entitlements(product: LicenseProduct, wanted: list[str] | None) -> list[str]:
    known = {e["slug"] for e in product.entitlements_catalog}
    unknown = sorted(set(wanted or []) - known)
    if unknown:
        raise Invalid(f"not in the product's entitlement catalog: {', '.join(unknown)}", "unknown_entitlement")
    return list(dict.fromkeys(wanted or []))


def _price(fields: dict[str, Any]) -> tuple[int, str] | None:
    if "price_value" in fields or "price_currency" in fields:
        return int(fields.get("price_value") or 0), fields.get("price_currency") or "SAT"
    if "price_sats" in fields:
        return int(fields["price_sats"]), "SAT"
    return None


def product_of(s: Session, tenant_id: UUID, slug: str) -> LicenseProduct:
    found = s.license_products.by_slug(tenant_id, slug)
    if found is None:
        raise product_not_found(repr(slug))
    return found


def visible_product(s: Session, tenant_id: UUID, product_id: UUID) -> LicenseProduct:
    found = s.license_products.get(product_id)
    if found is None or found.tenant_id != tenant_id:
        raise product_not_found(product_id)
    return found


def create_product(uow: Store, actor: Actor, config: Licensing, slug: str, fields: dict[str, Any]) -> LicenseProduct:
    now = utcnow()
    value, currency = _price(fields) or (0, "SAT")
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        tiers.require_room(s, config, tenant, "products")
        product = LicenseProduct(
            id=uuid4(),
            tenant_id=tenant.id,
            slug=fields["slug"],
            name=fields["name"],
            description=fields.get("description") or "",
            price_value=value,
            price_currency=currency,
            active=fields.get("active", True),
            entitlements_catalog=_catalog(fields.get("entitlements_catalog")),
            metadata=dict(fields.get("metadata") or {}),
            created_at=now,
            updated_at=now,
        )
        try:
            s.license_products.add(product)
        except store_errors.Conflict:
            raise Conflict(f"the tenant has a product {product.slug!r} already", "slug_taken") from None
        s.record(_event("license_product.created", actor, "license_product", product.id, tenant.id, product.slug))
    return product


def update_product(uow: Store, actor: Actor, slug: str, product_id: UUID, fields: dict[str, Any]) -> LicenseProduct:
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        product = visible_product(s, tenant.id, product_id)
        changes: dict[str, Any] = {k: fields[k] for k in ("name", "description", "active") if k in fields}
        if "metadata" in fields:
            changes["metadata"] = dict(fields["metadata"] or {})
        if "entitlements_catalog" in fields:
            changes["entitlements_catalog"] = _catalog(fields["entitlements_catalog"])
        price = _price(fields)
        if price is not None:
            changes["price_value"], changes["price_currency"] = price
        product = replace(product, **changes, updated_at=utcnow())
        s.license_products.save(product)
        s.record(
            _event(
                "license_product.updated",
                actor,
                "license_product",
                product.id,
                tenant.id,
                product.slug,
                fields=sorted(changes),
            )
        )
    return product


def list_products(uow: Store, actor: Actor, slug: str) -> list[LicenseProduct]:
    with uow.read() as s:
        return s.license_products.list(tenancy.administered(s, actor, slug).id)


def get_product(uow: Store, actor: Actor, slug: str, product_id: UUID) -> LicenseProduct:
    with uow.read() as s:
        return visible_product(s, tenancy.administered(s, actor, slug).id, product_id)


def create_policy(uow: Store, actor: Actor, slug: str, fields: dict[str, Any]) -> tuple[LicensePolicy, str]:
    now = utcnow()
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        product = product_of(s, tenant.id, fields["product_slug"])
        recurring, days = fields.get("is_recurring", False), fields.get("renewal_period_days", 0)
        if recurring and not (days or fields.get("duration_seconds")):
            raise Invalid("a recurring policy needs renewal_period_days or duration_seconds", "recurring_needs_period")
        policy = LicensePolicy(
            id=uuid4(),
            tenant_id=tenant.id,
            product_id=product.id,
            slug=fields["slug"],
            name=fields["name"],
            description=fields.get("description") or "",
            duration_seconds=fields.get("duration_seconds", 0),
            grace_seconds=fields.get("grace_seconds", 0),
            max_machines=fields.get("max_machines", 1),
            heartbeat_window_seconds=fields.get("heartbeat_window_seconds", 0),
            is_trial=fields.get("is_trial", False),
            price_override=fields.get("price_sats_override"),
            entitlements=check_entitlements(product, fields.get("entitlements")),
            public=fields.get("public", True),
            active=fields.get("active", True),
            highlighted=fields.get("highlighted", False),
            tier_rank=fields.get("tier_rank"),
            is_recurring=recurring,
            renewal_period_days=days if recurring else 0,
            metadata=dict(fields.get("metadata") or {}),
            created_at=now,
            updated_at=now,
        )
        try:
            s.license_policies.add(policy)
        except store_errors.Conflict:
            raise Conflict(f"the product has a policy {policy.slug!r} already", "slug_taken") from None
        s.record(_event("license_policy.created", actor, "license_policy", policy.id, tenant.id, policy.slug))
    return policy, product.slug


def set_archived(uow: Store, actor: Actor, slug: str, policy_id: UUID, archived: bool) -> tuple[LicensePolicy, str]:
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        policy = s.license_policies.get(policy_id)
        if policy is None or policy.tenant_id != tenant.id:
            raise policy_not_found(policy_id)
        product = visible_product(s, tenant.id, policy.product_id)
        if (policy.archived_at is not None) != archived:
            now = utcnow()
            policy = replace(policy, archived_at=now if archived else None, updated_at=now)
            s.license_policies.save(policy)
            action = "license_policy.archived" if archived else "license_policy.unarchived"
            s.record(_event(action, actor, "license_policy", policy.id, tenant.id, policy.slug))
    return policy, product.slug


def list_policies(
    uow: Store, actor: Actor, slug: str, product_slug: str | None, include_archived: bool
) -> list[tuple[LicensePolicy, str]]:
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
        products = {p.id: p.slug for p in s.license_products.list(tenant.id)}
        product_id = product_of(s, tenant.id, product_slug).id if product_slug else None
        found = s.license_policies.list(tenant.id, product_id)
    return [(p, products[p.product_id]) for p in found if include_archived or p.archived_at is None]


def public_tiers(uow: Store, slug: str, product_slug: str) -> tuple[LicenseProduct, list[LicensePolicy]]:
    """A product and its public, active, unarchived tiers (by tier_rank, then age): what a buyer sees."""
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
        product = product_of(s, tenant.id, product_slug)
        if not product.active:
            raise product_not_found(repr(product_slug))
        tiers = [p for p in s.license_policies.list(tenant.id, product.id) if sellable(p)]
    return product, sorted(tiers, key=lambda p: (p.tier_rank is None, p.tier_rank or 0))


def sellable(policy: LicensePolicy) -> bool:
    return policy.public and policy.active and policy.archived_at is None
