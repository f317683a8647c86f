"""Append N audit events to one log, bypassing the API but not the ledger: each event gets its
seq, its leaf hash over its canonical bytes (store.canonical, RFC 8785) and the subtree hashes
its append completes (store.merkle), exactly as SqlAudit.append computes them, and the log's
head grows to match, so checkpoints, proofs, verify and exports work on the seeded log.

The leaves are hashed in a process pool (RFC 8785 costs ~30 us an event), then the rows go in
with COPY on PostgreSQL (executemany on SQLite) in one transaction that holds the log's head
row, as an append does. Event ids are reserved from the id sequence up front (the canonical
bytes include the id): nothing else may write audit events to that database meanwhile, which
holds for a benchmark's idle server.

Every event looks like one the registry writes for a tenant creation (a request_id in metadata),
so a page of a 1k-row and of a 1M-row table costs the same to render; ids and seqs run in
creation order, one microsecond apart from the moment of seeding.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import md5
from typing import Any

from store import merkle
from store.canonical import canonical, log_of

CHUNK = 20_000  # events a pool task hashes


@dataclass(frozen=True)
class Seeded:
    seconds: float
    low: int  # the smallest id seeded
    high: int  # the largest
    log_id: str
    size: int  # the log's size afterwards


@dataclass(frozen=True)
class _Plan:
    """What decides every seeded event: event n (0-based) has id first_id + n, seq first_seq + n."""

    tenant_id: uuid.UUID | None
    first_id: int
    first_seq: int
    start: datetime

    def event(self, n: int) -> dict[str, Any]:
        tag = md5(str(self.first_id + n).encode()).hexdigest()
        return {
            "id": self.first_id + n,
            "created_at": self.start + timedelta(microseconds=n),
            "action": "tenant.created",
            "tenant_id": self.tenant_id,
            "actor_type": "anonymous",
            "target_type": "tenant",
            "target_id": tag,
            "target_name": f"seed-{self.first_id + n}",
            "metadata": {"request_id": tag},
            "source_ip": "127.0.0.1",
            "user_agent": "bench-seed",
            "log_id": log_of(self.tenant_id),
            "seq": self.first_seq + n,
        }


EVENT_COLUMNS = tuple(_Plan(None, 1, 0, datetime.now(UTC)).event(0))
NODE_COLUMNS = ("log_id", "level", "idx", "hash")


def _leaves(plan: _Plan, lo: int, hi: int) -> list[bytes]:
    return [merkle.leaf_hash(canonical(plan.event(n))) for n in range(lo, hi)]


def _hash_all(plan: _Plan, events: int) -> list[bytes]:
    spans = [(lo, min(lo + CHUNK, events)) for lo in range(0, events, CHUNK)]
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or events <= CHUNK:
        return _leaves(plan, 0, events)
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_leaves, [plan] * len(spans), *zip(*spans, strict=True))
        return [leaf for part in parts for leaf in part]


def _nodes(log_id: str, size: int, compact: bytes, leaves: list[bytes]) -> tuple[list[Any], bytes]:
    """(level, index, hash) rows of every append in turn, and the compact range after them."""
    rows: list[Any] = []
    hashes = merkle.split_compact(compact)
    for n, leaf in enumerate(leaves):
        hashes, made = merkle.append(size + n, hashes, leaf)
        rows += [(log_id, level, index, h) for level, index, h in made]
    return rows, b"".join(hashes)


def _event_rows(plan: _Plan, events: int, json_text: bool) -> Iterator[tuple]:
    for n in range(events):
        values = plan.event(n)
        values["metadata"] = json.dumps(values["metadata"])
        if json_text and values["tenant_id"] is not None:
            values["tenant_id"] = values["tenant_id"].hex  # SQLAlchemy's Uuid on SQLite: 32 hex digits
        yield tuple(values[c] for c in EVENT_COLUMNS)


def _plain(url: str) -> str:
    from store.sql.engine import normalise_url

    return normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed_postgres(url: str, events: int, tenant_id: uuid.UUID | None = None) -> Seeded:
    """Append `events` events to the log of `tenant_id` (None: the platform log)."""
    import psycopg

    started = time.perf_counter()
    log_id = log_of(tenant_id)
    with psycopg.connect(_plain(url)) as conn:
        with conn.transaction():
            head = conn.execute("SELECT size, compact FROM ledger_heads WHERE log_id = %s FOR UPDATE", (log_id,))
            found = head.fetchone()
            if found is None:
                conn.execute("INSERT INTO ledger_heads (log_id, size, compact) VALUES (%s, 0, '')", (log_id,))
                found = (0, b"")
            size, compact = found[0], bytes(found[1])
            sequence = conn.execute("SELECT pg_get_serial_sequence('audit_events', 'id')").fetchone()[0]
            first = conn.execute("SELECT nextval(%s)", (sequence,)).fetchone()[0]
            conn.execute("SELECT setval(%s, %s)", (sequence, first + events - 1))
            plan = _Plan(tenant_id, first, size, datetime.now(UTC))
            leaves = _hash_all(plan, events)
            nodes, compact = _nodes(log_id, size, compact, leaves)
            with conn.cursor() as cur:
                with cur.copy(f"COPY audit_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for row in _event_rows(plan, events, json_text=False):
                        copy.write_row(row)
                with cur.copy(f"COPY ledger_nodes ({', '.join(NODE_COLUMNS)}) FROM STDIN") as copy:
                    for node in nodes:
                        copy.write_row(node)
            conn.execute(
                "UPDATE ledger_heads SET size = %s, compact = %s WHERE log_id = %s", (size + events, compact, log_id)
            )
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        # Settle now what autovacuum and the checkpointer would otherwise do during the rounds.
        conn.execute("VACUUM (ANALYZE) audit_events")
        conn.execute("VACUUM (ANALYZE) ledger_nodes")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass
    return Seeded(time.perf_counter() - started, first, first + events - 1, log_id, size + events)


def seed_sqlite(path: str, events: int, tenant_id: uuid.UUID | None = None) -> Seeded:
    started = time.perf_counter()
    log_id = log_of(tenant_id)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # as every SQLite write: no other writer until COMMIT
        found = conn.execute("SELECT size, compact FROM ledger_heads WHERE log_id = ?", (log_id,)).fetchone()
        if found is None:
            conn.execute("INSERT INTO ledger_heads (log_id, size, compact) VALUES (?, 0, x'')", (log_id,))
            found = (0, b"")
        size, compact = found[0], bytes(found[1])
        last = conn.execute("SELECT max(seq) FROM sqlite_sequence WHERE name = 'audit_events'").fetchone()[0]
        top = conn.execute("SELECT max(id) FROM audit_events").fetchone()[0]
        first = max(last or 0, top or 0) + 1
        # SQLite keeps created_at as UTC text without offset (store.sql.tables.UtcDateTime).
        plan = _Plan(tenant_id, first, size, datetime.now(UTC).replace(tzinfo=None))
        leaves = _hash_all(plan, events)
        nodes, compact = _nodes(log_id, size, compact, leaves)
        marks = ", ".join("?" * len(EVENT_COLUMNS))
        conn.executemany(
            f"INSERT INTO audit_events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in _event_rows(plan, events, json_text=True)),
        )
        conn.executemany(f"INSERT INTO ledger_nodes ({', '.join(NODE_COLUMNS)}) VALUES (?, ?, ?, ?)", nodes)
        conn.execute("UPDATE ledger_heads SET size = ?, compact = ? WHERE log_id = ?", (size + events, compact, log_id))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return Seeded(time.perf_counter() - started, first, first + events - 1, log_id, size + events)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
