"""Licenses and their machines (seats) over SQL. See store.sql.licensing for what every
licensing repository shares."""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.models import Entitlement, License, Machine, Tenant
from store.sql.licensing import LicensingRepo, Statements
from store.sql.tables import entitlements, license_machines, licenses, tenants
from store.sql.tenants import ENTITLEMENT_FIELDS, TENANT_FIELDS

LICENSES = Statements(licenses, License, ("id", "tenant_id", "product_id", "issued_at"), "product")
MACHINES = Statements(license_machines, Machine, ("id", "tenant_id", "license_id", "fingerprint_hash"), "license")

_L, _M = licenses.c, license_machines.c
_BY_FINGERPRINT = sa.select(license_machines).where(
    _M.license_id == sa.bindparam("license_id"), _M.fingerprint_hash == sa.bindparam("fingerprint_hash")
)
_COUNT_ACTIVE = sa.select(sa.func.count()).where(
    _M.license_id == sa.bindparam("license_id"), _M.deactivated_at.is_(None)
)
_SILENT = (
    sa.select(license_machines)
    .where(_M.deactivated_at.is_(None), _M.seat_expires_at < sa.bindparam("now", type_=_M.seat_expires_at.type))
    .order_by(_M.seat_expires_at, _M.id)
    .limit(sa.bindparam("limit"))
)

_RENEWING = (
    sa.select(licenses)
    .where(_L.subscription.in_(("active", "cancelled")), _L.expires_at <= sa.bindparam("now", type_=_L.expires_at.type))
    .order_by(_L.expires_at, _L.id)
    .limit(sa.bindparam("limit"))
)


_AT_PREFIX = (
    sa.select(tenants, *[c.label(f"e_{c.name}") for c in entitlements.columns])
    .add_columns(*[c.label(f"l_{c.name}") for c in licenses.columns])
    .select_from(
        tenants.outerjoin(
            entitlements,
            sa.and_(entitlements.c.tenant_id == tenants.c.id, entitlements.c.product == sa.bindparam("product")),
        ).outerjoin(licenses, sa.and_(_L.id == sa.bindparam("license_id"), _L.tenant_id == tenants.c.id))
    )
    .where(tenants.c.slug == sa.bindparam("slug"))
)


class SqlLicenses(LicensingRepo):
    def add(self, license: License) -> None:
        self._add(LICENSES, license)

    def get(self, license_id: UUID, *, for_update: bool = False) -> License | None:
        return self._get(LICENSES, license_id, for_update)

    def at_prefix(
        self, slug: str, product: str, license_id: UUID | None
    ) -> tuple[Tenant, Entitlement | None, License | None] | None:
        row = self._run(_AT_PREFIX, {"slug": slug, "product": product, "license_id": license_id}).first()
        if row is None:
            return None
        values = row._mapping
        tenant = Tenant(**{name: values[name] for name in TENANT_FIELDS})
        held = found = None
        if values["e_product"] is not None:
            held = Entitlement(**{name: values[f"e_{name}"] for name in ENTITLEMENT_FIELDS})
        if values["l_id"] is not None:
            found = LICENSES.of_values({name: values[f"l_{name}"] for name in LICENSES.fields})
        return tenant, held, found

    def list(
        self,
        tenant_id: UUID,
        *,
        product_id: UUID | None = None,
        buyer_email: str | None = None,
        invoice_id: UUID | None = None,
        limit: int = 100,
    ) -> builtins.list[License]:
        query = sa.select(licenses).where(_L.tenant_id == tenant_id)
        if product_id is not None:
            query = query.where(_L.product_id == product_id)
        if buyer_email is not None:
            query = query.where(_L.buyer_email == buyer_email)
        if invoice_id is not None:
            query = query.where(_L.invoice_id == invoice_id)
        query = query.order_by(_L.issued_at.desc(), _L.id.desc()).limit(max(limit, 0))
        return self._all(LICENSES, query)

    def save(self, license: License) -> None:
        self._save(LICENSES, license)

    def subscriptions(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[License]:
        query = sa.select(licenses).where(_L.tenant_id == tenant_id, _L.subscription.is_not(None))
        if status is not None:
            query = query.where(_L.subscription == status)
        query = query.order_by(_L.issued_at.desc(), _L.id.desc()).limit(max(limit, 0))
        return self._all(LICENSES, query)

    def renewing(self, now: datetime, limit: int) -> builtins.list[License]:
        return self._all(LICENSES, _RENEWING, {"now": now, "limit": max(limit, 0)})


class SqlMachines(LicensingRepo):
    def add(self, machine: Machine) -> None:
        self._add(MACHINES, machine, "fingerprint")

    def get(self, machine_id: UUID) -> Machine | None:
        return self._get(MACHINES, machine_id)

    def by_fingerprint(self, license_id: UUID, fingerprint_hash: str) -> Machine | None:
        return self._one(MACHINES, _BY_FINGERPRINT, {"license_id": license_id, "fingerprint_hash": fingerprint_hash})

    def list(
        self, tenant_id: UUID, *, license_id: UUID | None = None, active_only: bool = False
    ) -> builtins.list[Machine]:
        query = sa.select(license_machines).where(_M.tenant_id == tenant_id)
        if license_id is not None:
            query = query.where(_M.license_id == license_id)
        if active_only:
            query = query.where(_M.deactivated_at.is_(None))
        return self._all(MACHINES, query.order_by(_M.activated_at, _M.id))

    def count_active(self, license_id: UUID) -> int:
        return int(self._run(_COUNT_ACTIVE, {"license_id": license_id}).scalar_one())

    def save(self, machine: Machine) -> None:
        self._save(MACHINES, machine)

    def silent(self, now: datetime, limit: int) -> builtins.list[Machine]:
        return self._all(MACHINES, _SILENT, {"now": now, "limit": max(limit, 0)})
