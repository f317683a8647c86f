"""API keys over SQL."""

from __future__ import annotations

import builtins
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.models import ApiKey
from store.sql.base import Repo, set_once
from store.sql.tables import api_keys, tenants

KEY_FIELDS = tuple(c.name for c in api_keys.columns)

_BY_ID = sa.select(api_keys).where(api_keys.c.id == sa.bindparam("id"))
_BY_PREFIX = (
    sa.select(api_keys, tenants.c.status.label("tenant_status"))
    .join(tenants, tenants.c.id == api_keys.c.tenant_id)
    .where(api_keys.c.prefix == sa.bindparam("prefix"))
)
# Read on every request made with a token minted from a key: one statement, built once.
_STANDING = (
    sa.select(api_keys.c.revoked_at, tenants.c.status)
    .join(tenants, tenants.c.id == api_keys.c.tenant_id)
    .where(api_keys.c.id == sa.bindparam("id"))
)
_REVOKE = set_once(api_keys.c.revoked_at)
_TOUCH = (
    sa.update(api_keys)
    .where(api_keys.c.id == sa.bindparam("key_id"))
    .values(last_used_at=sa.bindparam("at", type_=api_keys.c.last_used_at.type))
)


def _key(mapping) -> ApiKey:
    return ApiKey(**{name: mapping[name] for name in KEY_FIELDS})


def _order(key: ApiKey):
    # The memory store's order. Not ORDER BY id: a native uuid does not sort as its text does.
    return (key.created_at, str(key.id))


class SqlApiKeys(Repo):
    def add(self, key: ApiKey) -> None:
        self._add_owned(api_keys, key, KEY_FIELDS, api_keys.c.id, "id")

    def get(self, key_id: UUID) -> ApiKey | None:
        row = self._run(_BY_ID, {"id": key_id}).first()
        return _key(row._mapping) if row else None

    def list(self, tenant_id: UUID) -> list[ApiKey]:
        rows = self._run(sa.select(api_keys).where(api_keys.c.tenant_id == tenant_id))
        return sorted((_key(r._mapping) for r in rows), key=_order)

    def by_prefix(self, prefix: str) -> builtins.list[tuple[ApiKey, str]]:
        found = [(_key(r._mapping), r.tenant_status) for r in self._run(_BY_PREFIX, {"prefix": prefix})]
        return sorted(found, key=lambda pair: _order(pair[0]))

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        return self._set_once(_REVOKE, key_id, at)

    def touch(self, key_id: UUID, at: datetime) -> None:
        self._write()
        self._run(_TOUCH, {"key_id": key_id, "at": at})

    def standing(self, key_id: UUID) -> tuple[datetime | None, str] | None:
        row = self._run(_STANDING, {"id": key_id}).first()
        return (row.revoked_at, row.status) if row else None
