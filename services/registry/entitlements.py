"""A tenant's product entitlements: listing them, and the platform's grants and removals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from charter.domain import Actor, Conflict, Event, Invalid, NotFound
from charter.formats import format_date_time
from services.registry import shapes, tenancy
from services.registry.catalog import Catalog
from store import errors as store_errors
from store.interface import Session, Store
from store.models import Entitlement, utcnow


def holds(s: Session, tenant_id: UUID, product: str, now: datetime | None = None) -> bool:
    """Whether the tenant holds `product` now: granted, enabled, and not expired (a trial counts)."""
    return in_force(s.entitlements.get(tenant_id, product), now)


def in_force(held: Entitlement | None, now: datetime | None = None) -> bool:
    """Whether an entitlement (None: none) is enabled and not expired now."""
    if held is None or not held.enabled:
        return False
    return held.expires_at is None or held.expires_at > (now or utcnow())


def list_for_tenant(uow: Store, actor: Actor, tenant_id: UUID) -> list[Entitlement]:
    with uow.read() as s:
        tenancy.existing(s, actor, tenant_id)
        return s.entitlements.list(tenant_id)


def not_found(tenant_id: UUID, product: str) -> NotFound:
    return NotFound(f"tenant {tenant_id} holds no {product!r} entitlement", "entitlement_not_found")


def grant(
    uow: Store,
    actor: Actor,
    catalog: Catalog,
    *,
    tenant_id: UUID,
    product: str,
    expires_at: datetime | None = None,
    config: dict[str, Any] | None = None,
) -> Entitlement:
    """An enabled entitlement of a catalog product, granted by the platform (trial or not)."""
    wanted = catalog.get(product)
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise Invalid("expires_at must be a time to come", "invalid_expiry")
    entitlement = Entitlement(
        tenant_id=tenant_id,
        product=wanted.key,
        enabled=True,
        config=dict(config or {}),
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    try:
        with uow.write() as s:
            tenant = tenancy.existing(s, actor, tenant_id, for_update=True)
            s.entitlements.add(entitlement)
            metadata = {"expires_at": format_date_time(expires_at)} if expires_at else {}
            s.record(
                Event(
                    "entitlement.granted",
                    actor,
                    "entitlement",
                    wanted.key,
                    tenant_id=tenant.id,
                    target_name=wanted.name,
                    product=wanted.key,
                    metadata=metadata,
                    data=shapes.entitlement(entitlement),
                    publish="entitlement.created",
                )
            )
    except store_errors.Conflict:
        raise Conflict(f"the tenant already holds {wanted.key!r}", "already_entitled") from None
    return entitlement


def remove(uow: Store, actor: Actor, *, tenant_id: UUID, product: str) -> Entitlement:
    """Take the product away; the entitlement as it was. NotFound when it is not held."""
    with uow.write() as s:
        tenant = tenancy.existing(s, actor, tenant_id, for_update=True)
        removed = s.entitlements.remove(tenant.id, product)
        if removed is None:
            raise not_found(tenant_id, product)
        s.record(
            Event(
                "entitlement.removed",
                actor,
                "entitlement",
                product,
                tenant_id=tenant.id,
                product=product,
                data=shapes.entitlement(removed),
            )
        )
    return removed
