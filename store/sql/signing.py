"""The public halves of token signing keys over SQL: what the JWKS publishes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from store.errors import Conflict
from store.models import SigningKey
from store.sql.base import Repo
from store.sql.tables import signing_keys

SIGNING_FIELDS = tuple(c.name for c in signing_keys.columns)

_AT = sa.bindparam("at", type_=signing_keys.c.expires_at.type)
_BY_KID = sa.select(signing_keys).where(signing_keys.c.kid == sa.bindparam("kid"))
_LIVE = sa.select(signing_keys).where(signing_keys.c.expires_at > _AT)
_PRUNE = sa.delete(signing_keys).where(signing_keys.c.expires_at <= _AT)


def _signing_key(row) -> SigningKey:
    return SigningKey(**{name: row._mapping[name] for name in SIGNING_FIELDS})


def _newest_first(keys) -> list[SigningKey]:
    """created_at descending, then kid ascending (Python's order, not the collation's)."""
    return sorted(sorted(keys, key=lambda k: k.kid), key=lambda k: k.created_at, reverse=True)


class SqlSigningKeys(Repo):
    def add(self, key: SigningKey) -> None:
        self._write()
        values = {name: getattr(key, name) for name in SIGNING_FIELDS}
        if self._run(self._insert(signing_keys, signing_keys.c.kid), values).first() is None:
            raise Conflict("kid")

    def get(self, kid: str) -> SigningKey | None:
        row = self._run(_BY_KID, {"kid": kid}).first()
        return _signing_key(row) if row else None

    def live(self, at: datetime) -> list[SigningKey]:
        return _newest_first(_signing_key(r) for r in self._run(_LIVE, {"at": at}))

    def prune(self, at: datetime) -> int:
        self._write()
        return self._run(_PRUNE, {"at": at}).rowcount
