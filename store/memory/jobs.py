"""Background jobs in memory, by id, with the (kind, key) index that makes enqueueing idempotent."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from store.errors import Conflict
from store.memory.base import MemoryContext, Repo, Rows, assign
from store.memory.cascade import KEEP
from store.models import Job

PRUNE_BATCH = 1024
CLAIMABLE = frozenset({"pending", "running"})


class JobRows(Rows[UUID, Job]):
    on_tenant_delete = KEEP  # tenant_id is informational: the jobs stay and find the tenant gone

    def __init__(self) -> None:
        super().__init__()
        self.by_kind_key: dict[tuple[str, str], UUID] = {}

    def _index(self, key: UUID, row: Job) -> None:
        self.by_kind_key[(row.kind, row.key)] = key

    def _unindex(self, key: UUID, row: Job) -> None:
        del self.by_kind_key[(row.kind, row.key)]


class MemoryJobs(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(JobRows)

    def enqueue(self, job: Job) -> Job:
        undo = self._undo()
        found = self._rows.by_kind_key.get((job.kind, job.key))
        if found is not None:
            return copy.deepcopy(self._rows.by_key[found])
        if job.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(job.id, copy.deepcopy(job), undo)
        return copy.deepcopy(job)

    def get(self, job_id: UUID) -> Job | None:
        found = self._rows.by_key.get(job_id)
        return copy.deepcopy(found) if found is not None else None

    def claim(self, worker: str, kinds: Sequence[str], now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        undo = self._undo()
        wanted = set(kinds)
        due = sorted(
            (j for j in self._rows.by_key.values() if j.state in CLAIMABLE and j.run_at <= now and j.kind in wanted),
            key=lambda j: j.run_at,
        )[: max(limit, 0)]
        for job in due:
            for field, value in (
                ("state", "running"),
                ("attempts", job.attempts + 1),
                ("leased_by", worker),
                ("run_at", lease_until),
            ):
                assign(undo, job, field, value)
        return [copy.deepcopy(job) for job in due]

    def _held(self, job: Job) -> Job | None:
        """The stored job while `job`'s claim still holds it."""
        found = self._rows.by_key.get(job.id)
        if (
            found is None
            or found.state != "running"
            or (found.leased_by, found.attempts) != (job.leased_by, job.attempts)
        ):
            return None
        return found

    def _set(self, job: Job, **values: object) -> bool:
        undo = self._undo()
        held = self._held(job)
        if held is None:
            return False
        for field, value in values.items():
            assign(undo, held, field, value)
        return True

    def extend(self, job: Job, lease_until: datetime) -> bool:
        return self._set(job, run_at=lease_until)

    def progress(self, job: Job, done: int, total: int | None) -> bool:
        return self._set(job, progress_done=done, progress_total=total)

    def complete(self, job: Job, at: datetime) -> bool:
        return self._set(job, state="done", finished_at=at)

    def fail(self, job: Job, at: datetime, error: str, retry_at: datetime | None) -> bool:
        if retry_at is None:
            return self._set(job, state="dead", finished_at=at, last_error=error)
        return self._set(job, state="pending", run_at=retry_at, last_error=error)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for job in self._rows.by_key.values():
            found[job.state] = found.get(job.state, 0) + 1
        return found

    def prune(self, state: str, finished_before: datetime) -> int:
        undo = self._undo()
        gone = [
            job_id
            for job_id, job in self._rows.by_key.items()
            if job.state == state and job.finished_at is not None and job.finished_at < finished_before
        ][:PRUNE_BATCH]
        for job_id in gone:
            self._rows.remove(job_id, undo)
        return len(gone)
