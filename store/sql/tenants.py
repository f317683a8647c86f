"""Tenants and their entitlements over SQL."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from store.errors import Conflict
from store.models import Entitlement, Tenant
from store.sql.base import Repo
from store.sql.tables import entitlements, tenants

TENANT_FIELDS = tuple(c.name for c in tenants.columns)
# What save() may change: everything but the identity, the slug and the creation time.
TENANT_MUTABLE = tuple(f for f in TENANT_FIELDS if f not in ("id", "slug", "created_at"))
ENTITLEMENT_FIELDS = tuple(c.name for c in entitlements.columns)

_BY_ID = sa.select(tenants).where(tenants.c.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_SLUG = sa.select(tenants).where(tenants.c.slug == sa.bindparam("slug"))


def _tenant(row) -> Tenant:
    return Tenant(**row._mapping)


def _entitlement(row) -> Entitlement:
    return Entitlement(**row._mapping)


class SqlTenants(Repo):
    def add(self, tenant: Tenant) -> None:
        self._write()
        values = {name: getattr(tenant, name) for name in TENANT_FIELDS}
        statement = self._insert(tenants, tenants.c.id)
        # A clash leaves no row: name it. Should the clashing row vanish before we look (deleted
        # by a concurrent transaction), try the insert again.
        for _ in range(3):
            if self._run(statement, values).first() is not None:
                return
            if self._exists(tenants.c.slug == tenant.slug):
                raise Conflict("slug")
            if self._exists(tenants.c.id == tenant.id):
                raise Conflict("id")
        raise Conflict("slug")

    def get(self, tenant_id: UUID, *, for_update: bool = False) -> Tenant | None:
        # SQLite: BEGIN IMMEDIATE serialises writers already
        query = _BY_ID_FOR_UPDATE if for_update and self.pg else _BY_ID
        row = self._run(query, {"id": tenant_id}).first()
        return _tenant(row) if row else None

    def get_by_slug(self, slug: str) -> Tenant | None:
        row = self._run(_BY_SLUG, {"slug": slug}).first()
        return _tenant(row) if row else None

    def save(self, tenant: Tenant) -> None:
        self._write()
        values = {name: getattr(tenant, name) for name in TENANT_MUTABLE}
        result = self._run(sa.update(tenants).where(tenants.c.id == tenant.id).values(values))
        if result.rowcount == 0:
            raise KeyError(tenant.id)  # as the memory store does for an unknown tenant

    def delete(self, tenant_id: UUID) -> bool:
        """The foreign keys do the rest: entitlements, api keys and the rest cascade. Audit events
        and the tenant's log have no foreign key to it: they stay exactly as written."""
        self._write()
        statement = sa.delete(tenants).where(tenants.c.id == tenant_id).returning(tenants.c.id)
        return self._run(statement).first() is not None

    def _exists(self, condition) -> bool:
        return self._run(sa.select(sa.literal(1)).where(condition)).first() is not None


class SqlEntitlements(Repo):
    def list(self, tenant_id: UUID) -> list[Entitlement]:
        rows = self._run(sa.select(entitlements).where(entitlements.c.tenant_id == tenant_id))
        # Sorted here, not by ORDER BY: the database collation need not order as Python does.
        return sorted((_entitlement(r) for r in rows), key=lambda e: e.product)

    def get(self, tenant_id: UUID, product: str) -> Entitlement | None:
        query = sa.select(entitlements).where(entitlements.c.tenant_id == tenant_id, entitlements.c.product == product)
        row = self._run(query).first()
        return _entitlement(row) if row else None

    def add(self, entitlement: Entitlement) -> None:
        self._add_owned(entitlements, entitlement, ENTITLEMENT_FIELDS, entitlements.c.product, "entitlement")

    def remove(self, tenant_id: UUID, product: str) -> Entitlement | None:
        self._write()
        statement = (
            sa.delete(entitlements)
            .where(entitlements.c.tenant_id == tenant_id, entitlements.c.product == product)
            .returning(*entitlements.c)
        )
        row = self._run(statement).first()
        return _entitlement(row) if row else None
