"""The public halves of token signing keys in memory: what the JWKS publishes."""

from __future__ import annotations

import copy
from datetime import datetime

from store.errors import Conflict
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import KEEP
from store.models import SigningKey


class SigningKeyRows(Rows[str, SigningKey]):  # by kid
    on_tenant_delete = KEEP


class MemorySigningKeys(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(SigningKeyRows)

    def add(self, key: SigningKey) -> None:
        undo = self._undo()
        if key.kid in self._rows.by_key:
            raise Conflict("kid")
        self._rows.insert(key.kid, copy.deepcopy(key), undo)

    def get(self, kid: str) -> SigningKey | None:
        found = self._rows.by_key.get(kid)
        return copy.deepcopy(found) if found else None

    def live(self, at: datetime) -> list[SigningKey]:
        found = sorted((k for k in self._rows.by_key.values() if k.expires_at > at), key=lambda k: k.kid)
        # Newest first; the sort is stable, so equal times keep kid order.
        return [copy.deepcopy(k) for k in sorted(found, key=lambda k: k.created_at, reverse=True)]

    def prune(self, at: datetime) -> int:
        undo = self._undo()
        gone = [kid for kid, k in self._rows.by_key.items() if k.expires_at <= at]
        for kid in gone:
            self._rows.remove(kid, undo)
        return len(gone)
