"""The product catalog (catalog.yaml or CHARTER_CATALOG), product requests and self-serve trials."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import yaml

from charter.domain import Actor, Conflict, Event, Invalid, NotFound
from charter.formats import format_date_time
from services.registry import shapes, tenancy
from store import errors as store_errors
from store.interface import Store
from store.models import INACTIVE_TENANT_STATUSES, AuditQuery, Entitlement, utcnow

TRIAL_STARTED = "entitlement.trial_started"


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    description: str
    plans_required: tuple[str, ...]
    supports_trial: bool
    demo_url: str | None = None


class Catalog:
    def __init__(self, products: list[Product]):
        self.products = products
        self._by_key = {p.key: p for p in products}

    def get(self, key: str) -> Product:
        """The product, or NotFound `product_not_found`."""
        product = self._by_key.get(key)
        if product is None:
            raise NotFound(f"no product {key!r} in the catalog", "product_not_found")
        return product

    @classmethod
    def load(cls, path: Path) -> Catalog:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or []
        products = [
            Product(
                key=str(item["key"]),
                name=str(item["name"]),
                description=str(item.get("description", "")),
                plans_required=tuple(item.get("plans_required") or ()),
                supports_trial=bool(item.get("supports_trial", False)),
                demo_url=item.get("demo_url"),
            )
            for item in raw
        ]
        return cls(products)


def request_product(uow: Store, actor: Actor, catalog: Catalog, *, tenant_id: UUID, product: str) -> None:
    """Ask sales for a product: recorded as an audit event of the tenant."""
    wanted = catalog.get(product)
    with uow.write() as s:
        tenant = tenancy.existing(s, actor, tenant_id, for_update=True)
        s.record(
            Event(
                "catalog.requested",
                actor,
                "product",
                wanted.key,
                tenant_id=tenant.id,
                target_name=wanted.name,
                product=wanted.key,
            )
        )


def _had_trial(s, tenant_id: UUID, product: str) -> bool:
    """Whether the tenant's audit log shows a trial of the product (once per tenant and product,
    even after the platform removed the entitlement)."""
    query = AuditQuery(limit=1, tenant_id=tenant_id, product=product, action=TRIAL_STARTED)
    return bool(s.audit.query(query))


def request_trial(uow: Store, actor: Actor, catalog: Catalog, *, tenant_id: UUID, product: str) -> Entitlement:
    """A self-serve trial entitlement of tenancy.TRIAL, once per tenant and product, for a tenant
    that is not switched off, of a product that offers trials."""
    wanted = catalog.get(product)
    if not wanted.supports_trial:
        raise Invalid(f"{wanted.key!r} has no self-serve trial", "trial_not_supported")
    now = utcnow()
    try:
        with uow.write() as s:
            tenant = tenancy.existing(s, actor, tenant_id, for_update=True)
            if tenant.status in INACTIVE_TENANT_STATUSES:
                raise Conflict(f"a {tenant.status} tenant cannot start trials", "tenant_inactive")
            if _had_trial(s, tenant.id, wanted.key):  # its entitlement was removed since
                raise store_errors.Conflict("entitlement")
            entitlement = Entitlement(
                tenant_id=tenant.id,
                product=wanted.key,
                enabled=True,
                config={"trial": True},
                expires_at=now + tenancy.TRIAL,
                created_at=now,
                updated_at=now,
            )
            s.entitlements.add(entitlement)
            s.record(
                Event(
                    TRIAL_STARTED,
                    actor,
                    "entitlement",
                    wanted.key,
                    tenant_id=tenant.id,
                    product=wanted.key,
                    metadata={"expires_at": format_date_time(now + tenancy.TRIAL)},
                    # audited as a trial, published as the catalog's entitlement.created
                    data=shapes.entitlement(entitlement),
                    publish="entitlement.created",
                )
            )
    except store_errors.Conflict:
        raise Conflict(f"the tenant already holds {wanted.key!r} or has had its trial", "already_entitled") from None
    return entitlement
