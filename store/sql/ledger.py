"""The verifiable audit logs over SQL: heads, stored subtree hashes, checkpoints, signing keys.

Appends happen in SqlAudit.append (store.sql.audit), under the log's head row: FOR UPDATE on
PostgreSQL, so appends to one log queue and appends to different logs never wait on each other;
on SQLite every write transaction is BEGIN IMMEDIATE, so they are serialised anyway.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.models import AuditEvent, Checkpoint, LedgerHead, LedgerKey
from store.sql.base import Repo
from store.sql.tables import audit_events, ledger_checkpoints, ledger_heads, ledger_keys, ledger_nodes

EVENT_FIELDS = tuple(c.name for c in audit_events.columns)
_NODE = sa.select(ledger_nodes.c.hash).where(
    ledger_nodes.c.log_id == sa.bindparam("l"),
    ledger_nodes.c.level == sa.bindparam("v"),
    ledger_nodes.c.idx == sa.bindparam("i"),
)
_HEAD = sa.select(ledger_heads).where(ledger_heads.c.log_id == sa.bindparam("l"))
_ADD_NODES = sa.insert(ledger_nodes)
_GROW = (
    sa.update(ledger_heads)
    .where(ledger_heads.c.log_id == sa.bindparam("b_log"))
    .values(size=sa.bindparam("b_size"), compact=sa.bindparam("b_compact"))
)


def event_of(row) -> AuditEvent:
    return AuditEvent(**{n: row._mapping[n] for n in EVENT_FIELDS})


class SqlLedger(Repo):
    def head(self, log_id: str) -> LedgerHead | None:
        row = self._run(_HEAD, {"l": log_id}).first()
        return None if row is None else LedgerHead(row.log_id, row.size, bytes(row.compact))

    def lock_head(self, log_id: str) -> LedgerHead:
        """The log's head, row locked until commit (made, at size 0, for a new log)."""
        self._write()
        locked = _HEAD.with_for_update() if self.pg else _HEAD
        row = self._run(locked, {"l": log_id}).first()
        if row is None:
            made = self._run(
                self._insert(ledger_heads, ledger_heads.c.log_id), {"log_id": log_id, "size": 0, "compact": b""}
            )
            if made.first() is not None:  # ours: locked by this transaction, at size 0
                return LedgerHead(log_id, 0, b"")
            row = self._run(locked, {"l": log_id}).one()  # another transaction made it first: wait
        return LedgerHead(row.log_id, row.size, bytes(row.compact))

    def grow(self, head: LedgerHead, made: list[tuple[int, int, bytes]]) -> None:
        """Store the subtrees an append completed and the new head."""
        rows = [{"log_id": head.log_id, "level": v, "idx": i, "hash": h} for v, i, h in made]
        self._run(_ADD_NODES, rows)
        self._run(_GROW, {"b_log": head.log_id, "b_size": head.size, "b_compact": head.compact})

    def heads(self) -> list[LedgerHead]:
        rows = self._run(sa.select(ledger_heads).order_by(ledger_heads.c.log_id))
        return [LedgerHead(r.log_id, r.size, bytes(r.compact)) for r in rows]

    def event(self, log_id: str, seq: int) -> AuditEvent | None:
        t = audit_events.c
        row = self._run(sa.select(audit_events).where(t.log_id == log_id, t.seq == seq)).first()
        return None if row is None else event_of(row)

    def events(self, log_id: str, start: int, end: int) -> list[AuditEvent]:
        t = audit_events.c
        statement = sa.select(audit_events).where(t.log_id == log_id, t.seq >= start, t.seq < end).order_by(t.seq)
        return [event_of(r) for r in self._run(statement)]

    def node(self, log_id: str, level: int, index: int) -> bytes | None:
        found = self._run(_NODE, {"l": log_id, "v": level, "i": index}).scalar()
        return None if found is None else bytes(found)

    def leaves(self, log_id: str, start: int, end: int) -> list[bytes]:
        t = ledger_nodes.c
        statement = (
            sa.select(t.hash).where(t.log_id == log_id, t.level == 0, t.idx >= start, t.idx < end).order_by(t.idx)
        )
        return [bytes(h) for h in self._run(statement).scalars()]

    def checkpoint(self, log_id: str, size: int | None = None) -> Checkpoint | None:
        t = ledger_checkpoints.c
        statement = sa.select(ledger_checkpoints).where(t.log_id == log_id)
        statement = statement.where(t.size == size) if size is not None else statement.order_by(t.size.desc())
        row = self._run(statement.limit(1)).first()
        return None if row is None else _checkpoint(row)

    def checkpoints(self, log_id: str) -> list[Checkpoint]:
        t = ledger_checkpoints.c
        rows = self._run(sa.select(ledger_checkpoints).where(t.log_id == log_id).order_by(t.size))
        return [_checkpoint(r) for r in rows]

    def add_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        self._write()
        values = {k: getattr(checkpoint, k) for k in ("log_id", "size", "root", "key_id", "note", "created_at")}
        self._run(self._insert(ledger_checkpoints, ledger_checkpoints.c.log_id), values)
        kept = self.checkpoint(checkpoint.log_id, checkpoint.size)
        assert kept is not None
        return kept

    def keys(self) -> list[LedgerKey]:
        t = ledger_keys.c
        rows = self._run(sa.select(ledger_keys).order_by(t.created_at, t.key_id))
        return [LedgerKey(r.key_id, r.name, bytes(r.public_key), bytes(r.private_sealed), r.created_at) for r in rows]

    def add_key(self, key: LedgerKey) -> None:
        self._write()
        values = {k: getattr(key, k) for k in ("key_id", "name", "public_key", "private_sealed", "created_at")}
        self._run(self._insert(ledger_keys, ledger_keys.c.key_id), values)


def _checkpoint(row) -> Checkpoint:
    return Checkpoint(row.log_id, row.size, bytes(row.root), row.key_id, row.note, row.created_at)
