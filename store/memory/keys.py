"""API keys in memory."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows, assign
from store.memory.cascade import DELETE
from store.memory.tenants import TenantRows
from store.models import ApiKey


class ApiKeyRows(Rows[UUID, ApiKey]):
    on_tenant_delete = DELETE


def _order(key: ApiKey) -> tuple[datetime, str]:
    return (key.created_at, str(key.id))


class MemoryApiKeys(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(ApiKeyRows)
        self._tenants = self._tables.of(TenantRows)

    def add(self, key: ApiKey) -> None:
        undo = self._undo()
        if key.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        if key.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(key.id, copy.deepcopy(key), undo)

    def get(self, key_id: UUID) -> ApiKey | None:
        found = self._rows.by_key.get(key_id)
        return copy.deepcopy(found) if found else None

    def list(self, tenant_id: UUID) -> builtins.list[ApiKey]:
        found = [copy.deepcopy(k) for k in self._rows.by_key.values() if k.tenant_id == tenant_id]
        return sorted(found, key=_order)

    def by_prefix(self, prefix: str) -> builtins.list[tuple[ApiKey, str]]:
        tenants = self._tenants.by_key
        found = [
            (copy.deepcopy(k), tenants[k.tenant_id].status) for k in self._rows.by_key.values() if k.prefix == prefix
        ]
        return sorted(found, key=lambda pair: _order(pair[0]))

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        return self._stamp_once(self._rows.by_key.get(key_id), "revoked_at", at)

    def touch(self, key_id: UUID, at: datetime) -> None:
        undo = self._undo()
        key = self._rows.by_key.get(key_id)
        if key is not None:
            assign(undo, key, "last_used_at", at)

    def standing(self, key_id: UUID) -> tuple[datetime | None, str] | None:
        key = self._rows.by_key.get(key_id)
        return (key.revoked_at, self._tenants.by_key[key.tenant_id].status) if key else None
