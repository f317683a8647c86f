"""GCRA rate-limit buckets in memory: key -> theoretical arrival time (tat, epoch seconds).

A missing key means 0; so does a tat in the past, so every RATE_HOUSEKEEPING_EVERY-th acquire
drops those. A key given twice in one call is refused with ValueError, as the SQL store does.
"""

from __future__ import annotations

from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import KEEP
from store.models import RateBucket, bucket_keys, gcra_fit

# Every this many acquires, rate buckets whose tat has passed (the same as no bucket) are dropped.
RATE_HOUSEKEEPING_EVERY = 512


class RateRows(Rows[str, float]):
    on_tenant_delete = KEEP

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0  # acquires so far, for housekeeping


class MemoryRateLimits(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(RateRows)

    def peek(self, buckets: list[RateBucket], now: float) -> float:
        bucket_keys(buckets)
        return gcra_fit(buckets, self._rows.by_key, now)[1]

    def acquire(self, buckets: list[RateBucket], now: float) -> float:
        undo = self._undo()
        bucket_keys(buckets)
        tats = self._rows.by_key
        new_tats, wait = gcra_fit(buckets, tats, now)
        if wait == 0.0 and new_tats:
            old = {key: tats.get(key) for key in new_tats}
            undo.append(lambda: self._restore(old))
            tats.update(new_tats)
        self._rows.ticks += 1
        if self._rows.ticks % RATE_HOUSEKEEPING_EVERY == 0:
            stale = {key: tat for key, tat in tats.items() if tat < now}
            undo.append(lambda: tats.update(stale))
            for key in stale:
                del tats[key]
        return wait

    def _restore(self, old: dict[str, float | None]) -> None:
        tats = self._rows.by_key
        for key, tat in old.items():
            if tat is None:
                tats.pop(key, None)
            else:
                tats[key] = tat
