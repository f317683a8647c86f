"""Tenants and their entitlements in memory."""

from __future__ import annotations

import builtins
import copy
from dataclasses import replace
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE, KEEP, delete_tenant_rows
from store.models import Entitlement, Tenant


class TenantRows(Rows[UUID, Tenant]):
    on_tenant_delete = KEEP  # the tenants themselves: delete() removes the one it deletes

    def __init__(self) -> None:
        super().__init__()
        self.slugs: dict[str, UUID] = {}

    def _index(self, key: UUID, row: Tenant) -> None:
        self.slugs[row.slug] = key

    def _unindex(self, key: UUID, row: Tenant) -> None:
        del self.slugs[row.slug]


class EntitlementRows(Rows[tuple[UUID, str], Entitlement]):  # (tenant_id, product)
    on_tenant_delete = DELETE


class MemoryTenants(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(TenantRows)

    def add(self, tenant: Tenant) -> None:
        undo = self._undo()
        if tenant.id in self._rows.by_key:
            raise Conflict("id")
        if tenant.slug in self._rows.slugs:
            raise Conflict("slug")
        self._rows.insert(tenant.id, replace(tenant), undo)

    def get(self, tenant_id: UUID, *, for_update: bool = False) -> Tenant | None:
        found = self._rows.by_key.get(tenant_id)
        return replace(found) if found else None

    def get_by_slug(self, slug: str) -> Tenant | None:
        tenant_id = self._rows.slugs.get(slug)
        return self.get(tenant_id) if tenant_id else None

    def save(self, tenant: Tenant) -> None:
        undo = self._undo()
        old = self._rows.by_key[tenant.id]  # KeyError for an unknown tenant
        self._rows.replace(tenant.id, replace(tenant, slug=old.slug, created_at=old.created_at), undo)

    def delete(self, tenant_id: UUID) -> bool:
        undo = self._undo()
        if tenant_id not in self._rows.by_key:
            return False
        delete_tenant_rows(self._tables, tenant_id, undo)
        self._rows.remove(tenant_id, undo)
        return True


class MemoryEntitlements(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(EntitlementRows)
        self._tenants = self._tables.of(TenantRows)

    def list(self, tenant_id: UUID) -> builtins.list[Entitlement]:
        found = [copy.deepcopy(e) for (t, _), e in self._rows.by_key.items() if t == tenant_id]
        return sorted(found, key=lambda e: e.product)

    def get(self, tenant_id: UUID, product: str) -> Entitlement | None:
        found = self._rows.by_key.get((tenant_id, product))
        return copy.deepcopy(found) if found else None

    def add(self, entitlement: Entitlement) -> None:
        undo = self._undo()
        key = (entitlement.tenant_id, entitlement.product)
        if entitlement.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        if key in self._rows.by_key:
            raise Conflict("entitlement")
        self._rows.insert(key, copy.deepcopy(entitlement), undo)

    def remove(self, tenant_id: UUID, product: str) -> Entitlement | None:
        undo = self._undo()
        found = self._rows.by_key.get((tenant_id, product))
        if found is None:
            return None
        self._rows.remove((tenant_id, product), undo)
        return copy.deepcopy(found)
