"""The verifiable audit logs in memory: heads, stored subtree hashes, checkpoints, signing keys.
Appends happen in MemoryAudit.append, under the store's lock. Append-only as in SQL: the rows of
AppendOnly refuse replace() and remove() (a rollback still takes back what it inserted)."""

from __future__ import annotations

import copy
from typing import Any

from store.memory.base import MemoryContext, Repo, Rows, Undo
from store.memory.cascade import KEEP
from store.models import AuditEvent, Checkpoint, LedgerHead, LedgerKey


class AppendOnly(Rows[Any, Any]):
    on_tenant_delete = KEEP

    def replace(self, key: Any, row: Any, undo: Undo) -> None:
        raise PermissionError(f"{type(self).__name__} is append-only")

    def remove(self, key: Any, undo: Undo) -> None:
        raise PermissionError(f"{type(self).__name__} is append-only")


class HeadRows(Rows[str, LedgerHead]):
    on_tenant_delete = KEEP  # keyed by log id, no reference: the log outlives its tenant


class NodeRows(AppendOnly):  # (log_id, level, index) -> hash
    pass


class CheckpointRows(AppendOnly):  # (log_id, size) -> Checkpoint
    pass


class KeyRows(AppendOnly):  # key_id -> LedgerKey
    pass


class SeqIndex(AppendOnly):  # (log_id, seq) -> the audit event (the one AuditRows holds)
    pass


class MemoryLedger(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._heads = self._tables.of(HeadRows)
        self._nodes = self._tables.of(NodeRows)
        self._checkpoints = self._tables.of(CheckpointRows)
        self._keys = self._tables.of(KeyRows)
        self._seqs = self._tables.of(SeqIndex)

    def lock_head(self, log_id: str) -> LedgerHead:
        """The log's head (the store's lock is held by the write already)."""
        self._undo()
        head = self._heads.by_key.get(log_id)
        return LedgerHead(log_id, 0, b"") if head is None else copy.copy(head)

    def grow(self, head: LedgerHead, made: list[tuple[int, int, bytes]], event: AuditEvent) -> None:
        """Store the subtrees an append completed, the event at its seq, and the new head."""
        undo = self._undo()
        self._seqs.insert((head.log_id, head.size - 1), event, undo)
        for level, index, h in made:
            self._nodes.insert((head.log_id, level, index), h, undo)
        if head.log_id in self._heads.by_key:
            self._heads.replace(head.log_id, head, undo)
        else:
            self._heads.insert(head.log_id, head, undo)

    def head(self, log_id: str) -> LedgerHead | None:
        found = self._heads.by_key.get(log_id)
        return None if found is None else copy.copy(found)

    def heads(self) -> list[LedgerHead]:
        return [copy.copy(h) for _, h in sorted(self._heads.by_key.items())]

    def event(self, log_id: str, seq: int) -> AuditEvent | None:
        found = self._seqs.by_key.get((log_id, seq))
        return None if found is None else copy.deepcopy(found)

    def events(self, log_id: str, start: int, end: int) -> list[AuditEvent]:
        found = []
        for seq in range(max(start, 0), end):
            event = self.event(log_id, seq)
            if event is None:
                break
            found.append(event)
        return found

    def node(self, log_id: str, level: int, index: int) -> bytes | None:
        return self._nodes.by_key.get((log_id, level, index))

    def leaves(self, log_id: str, start: int, end: int) -> list[bytes]:
        found = []
        for seq in range(max(start, 0), end):
            h = self._nodes.by_key.get((log_id, 0, seq))
            if h is None:
                break
            found.append(h)
        return found

    def checkpoint(self, log_id: str, size: int | None = None) -> Checkpoint | None:
        if size is not None:
            return copy.copy(self._checkpoints.by_key.get((log_id, size)))
        mine = [c for (log, _), c in self._checkpoints.by_key.items() if log == log_id]
        return copy.copy(max(mine, key=lambda c: c.size)) if mine else None

    def checkpoints(self, log_id: str) -> list[Checkpoint]:
        mine = [c for (log, _), c in self._checkpoints.by_key.items() if log == log_id]
        return [copy.copy(c) for c in sorted(mine, key=lambda c: c.size)]

    def add_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        undo = self._undo()
        key = (checkpoint.log_id, checkpoint.size)
        if key not in self._checkpoints.by_key:
            self._checkpoints.insert(key, copy.copy(checkpoint), undo)
        return copy.copy(self._checkpoints.by_key[key])

    def keys(self) -> list[LedgerKey]:
        return [copy.copy(k) for k in sorted(self._keys.by_key.values(), key=lambda k: (k.created_at, k.key_id))]

    def add_key(self, key: LedgerKey) -> None:
        undo = self._undo()
        if key.key_id not in self._keys.by_key:
            self._keys.insert(key.key_id, copy.copy(key), undo)
