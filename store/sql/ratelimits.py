"""GCRA rate-limit buckets over SQL: key -> theoretical arrival time (tat, epoch seconds).

A missing row means tat 0, and so does any tat in the past, so rows with tat < now can go at any
time: every HOUSEKEEPING_EVERY-th acquire of a store deletes a batch of them.

acquire() is atomic across processes. One statement claims every bucket's row in key order:

    INSERT INTO rate_limits (key, tat) VALUES (:k1, 0), (:k2, 0) …
    ON CONFLICT (key) DO UPDATE SET tat = rate_limits.tat RETURNING key, tat

which inserts a missing row or locks the existing one (a no-op update), and returns the tat,
atomically per row: PostgreSQL's ON CONFLICT DO UPDATE always ends in an insert or an update,
even against a concurrent insert or delete. (SQLite: a write transaction is BEGIN IMMEDIATE, so
serialised already.) Then it decides in Python and updates the rows when the request fits.

Not "INSERT … DO NOTHING, then SELECT … FOR UPDATE": housekeeping may delete a row between the
two, and inserting it again while holding later rows' locks takes locks out of key order, which
deadlocked under load. Here every acquire takes its row locks in key order and nothing else,
and housekeeping skips locked rows (SKIP LOCKED) and so never waits: no cycle is possible.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from store.models import RateBucket, bucket_keys, gcra_fit
from store.sql.base import Repo, SqlContext
from store.sql.tables import rate_limits

HOUSEKEEPING_EVERY = 512
SWEEP_BATCH = 4096  # rows deleted per housekeeping at most: it stays cheap however big the table

_KEYS: sa.BindParameter[str] = sa.bindparam("keys", expanding=True)
_PEEK = sa.select(rate_limits.c.key, rate_limits.c.tat).where(rate_limits.c.key.in_(_KEYS))


def _claim(dialect) -> sa.Insert:
    """Insert the row (tat 0) or lock the existing one; either way return its tat."""
    return (
        dialect.insert(rate_limits)
        .on_conflict_do_update(index_elements=[rate_limits.c.key], set_={"tat": rate_limits.c.tat})
        .returning(rate_limits.c.key, rate_limits.c.tat)
    )


_CLAIM = {True: _claim(postgresql), False: _claim(sqlite)}
_SET = (
    sa.update(rate_limits)
    .where(rate_limits.c.key == sa.bindparam("b_key"))
    .values(tat=sa.bindparam("b_tat", type_=rate_limits.c.tat.type))
)
_STALE = (
    sa.select(rate_limits.c.key)
    .where(rate_limits.c.tat < sa.bindparam("now", type_=rate_limits.c.tat.type))
    .limit(SWEEP_BATCH)
)
# PostgreSQL: SKIP LOCKED, so housekeeping never waits for (nor deadlocks with) a concurrent acquire.
_SWEEP = {
    True: sa.delete(rate_limits).where(rate_limits.c.key.in_(_STALE.with_for_update(skip_locked=True))),
    False: sa.delete(rate_limits).where(rate_limits.c.key.in_(_STALE)),
}


class Counting(SqlContext, Protocol):
    rate_ticks: Iterator[int]  # counts acquires for housekeeping: shared by every session of one SqlStore


class SqlRateLimits(Repo):
    def __init__(self, session: Counting) -> None:
        super().__init__(session)
        self._ticks = session.rate_ticks

    def peek(self, buckets: list[RateBucket], now: float) -> float:
        keys = bucket_keys(buckets)
        if not keys:
            return 0.0
        tats: dict[str, float] = dict(self._run(_PEEK, {"keys": keys}).tuples().all())
        return gcra_fit(buckets, tats, now)[1]

    def acquire(self, buckets: list[RateBucket], now: float) -> float:
        self._write()
        keys = bucket_keys(buckets)
        if not keys:
            return 0.0
        # In key order, so concurrent acquires lock their rows in one order: no deadlock.
        claimed = self._run(_CLAIM[self.pg], [{"key": key, "tat": 0.0} for key in keys])
        tats: dict[str, float] = dict(claimed.tuples().all())
        new_tats, wait = gcra_fit(buckets, tats, now)
        if wait == 0.0:
            self._run(_SET, [{"b_key": key, "b_tat": new_tats[key]} for key in keys])
        if next(self._ticks) % HOUSEKEEPING_EVERY == 0:
            self._run(_SWEEP[self.pg], {"now": now})
        return wait
