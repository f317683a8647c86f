"""Answers kept for Idempotency-Key replays, in memory, by (scope, key hash)."""

from __future__ import annotations

import copy
from datetime import datetime

from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import KEEP
from store.models import KeptAnswer

# Every this many puts, answers that have expired are dropped.
HOUSEKEEPING_EVERY = 256
SWEEP_BATCH = 1024  # answers deleted by one prune at most, as in store.sql.kept


class KeptRows(Rows[tuple[str, str], KeptAnswer]):
    on_tenant_delete = KEEP  # keyed by scope, which is not a reference to the tenant

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0


class MemoryKeptAnswers(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(KeptRows)

    def get(self, scope: str, key_hash: str, at: datetime) -> KeptAnswer | None:
        found = self._rows.by_key.get((scope, key_hash))
        return copy.deepcopy(found) if found is not None and found.expires_at > at else None

    def put(self, answer: KeptAnswer) -> None:
        undo = self._undo()
        key = (answer.scope, answer.key_hash)
        if key in self._rows.by_key:
            self._rows.remove(key, undo)
        self._rows.insert(key, copy.deepcopy(answer), undo)
        self._rows.puts += 1
        if self._rows.puts % HOUSEKEEPING_EVERY == 0:
            self.prune(answer.created_at)

    def prune(self, at: datetime) -> int:
        undo = self._undo()
        gone = [k for k, row in self._rows.by_key.items() if row.expires_at <= at][:SWEEP_BATCH]
        for key in gone:
            self._rows.remove(key, undo)
        return len(gone)
