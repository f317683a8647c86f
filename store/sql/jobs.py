"""Background jobs over SQL: the queue is the jobs table, so enqueueing commits with its cause.

A claim is one statement (PostgreSQL shown; SQLite the same without FOR UPDATE SKIP LOCKED, its
write transactions being BEGIN IMMEDIATE, one at a time):

    WITH due AS (SELECT id FROM jobs
                 WHERE state IN ('pending', 'running') AND run_at <= :now AND kind IN (:kinds)
                 ORDER BY run_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_by = :worker,
                    run_at = :lease_until
    WHERE id IN (SELECT id FROM due) RETURNING *

A running job's run_at is its lease end, so one scan of the partial index on run_at (over
pending and running jobs only) finds both the due jobs and those whose worker was lost. SKIP
LOCKED passes over rows another claim has locked, so concurrent claims never wait for each other
nor take one job twice; a row locked and changed by another claim that committed first is
checked again against the WHERE (READ COMMITTED). The state literals are written out, not bound,
so that PostgreSQL's planner can match the index's predicate in a generic plan.

Every later change of a claimed job is fenced by the claim: id, state 'running', leased_by and
attempts must still be what the claim returned.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.errors import Conflict
from store.models import Job
from store.sql.base import Repo
from store.sql.tables import jobs

PRUNE_BATCH = 1024
FIELDS = tuple(c.name for c in jobs.columns)

_TS = jobs.c.run_at.type
_CLAIMABLE = jobs.c.state.in_([sa.literal_column("'pending'"), sa.literal_column("'running'")])


def _claim(pg: bool) -> sa.Update:
    due = (
        sa.select(jobs.c.id)
        .where(
            _CLAIMABLE,
            jobs.c.run_at <= sa.bindparam("b_now", type_=_TS),
            jobs.c.kind.in_(sa.bindparam("b_kinds", expanding=True)),
        )
        .order_by(jobs.c.run_at)
        .limit(sa.bindparam("b_limit", type_=sa.Integer()))
    )
    if pg:
        due = due.with_for_update(skip_locked=True)
    picked = due.cte("due")
    return (
        sa.update(jobs)
        .where(jobs.c.id.in_(sa.select(picked.c.id)))
        .values(
            state="running",
            attempts=jobs.c.attempts + 1,
            leased_by=sa.bindparam("b_worker"),
            run_at=sa.bindparam("b_until", type_=_TS),
        )
        .returning(*jobs.c)
    )


_CLAIM = {True: _claim(True), False: _claim(False)}


def _fenced(**values) -> sa.Update:
    """UPDATE jobs SET … WHERE the claim (b_id, b_worker, b_attempts) still holds the job."""
    return (
        sa.update(jobs)
        .where(
            jobs.c.id == sa.bindparam("b_id"),
            jobs.c.state == "running",
            jobs.c.leased_by == sa.bindparam("b_worker"),
            jobs.c.attempts == sa.bindparam("b_attempts"),
        )
        .values(**values)
    )


def _at(name: str) -> sa.BindParameter:
    return sa.bindparam(name, type_=_TS)


_EXTEND = _fenced(run_at=_at("b_until"))
_PROGRESS = _fenced(progress_done=sa.bindparam("b_done"), progress_total=sa.bindparam("b_total"))
_COMPLETE = _fenced(state="done", finished_at=_at("b_at"))
_RETRY = _fenced(state="pending", run_at=_at("b_retry"), last_error=sa.bindparam("b_error"))
_DEAD = _fenced(state="dead", finished_at=_at("b_at"), last_error=sa.bindparam("b_error"))
_GET = sa.select(jobs).where(jobs.c.id == sa.bindparam("id"))
_BY_KEY = sa.select(jobs).where(jobs.c.kind == sa.bindparam("kind"), jobs.c.key == sa.bindparam("key"))
_COUNTS = sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)
_PRUNE = sa.delete(jobs).where(
    jobs.c.id.in_(
        sa.select(jobs.c.id)
        .where(jobs.c.state == sa.bindparam("state"), jobs.c.finished_at < _at("before"))
        .limit(PRUNE_BATCH)
    )
)


def _job(row) -> Job:
    return Job(**{name: row._mapping[name] for name in FIELDS})


class SqlJobs(Repo):
    def enqueue(self, job: Job) -> Job:
        self._write()
        values = {name: getattr(job, name) for name in FIELDS}
        for _ in range(3):
            if self._run(self._insert(jobs, jobs.c.id), values).first() is not None:
                return copy.deepcopy(job)
            found = self._run(_BY_KEY, {"kind": job.kind, "key": job.key}).first()
            if found is not None:
                return _job(found)
            # Either the id is taken, or the job with this key was pruned between the two
            # statements (then inserting again succeeds).
            if self.get(job.id) is not None:
                break
        raise Conflict("id")

    def get(self, job_id: UUID) -> Job | None:
        row = self._run(_GET, {"id": job_id}).first()
        return _job(row) if row else None

    def claim(self, worker: str, kinds: Sequence[str], now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        self._write()
        if limit < 1 or not kinds:
            return []
        params = {"b_now": now, "b_kinds": list(kinds), "b_limit": limit, "b_worker": worker, "b_until": lease_until}
        return [_job(row) for row in self._run(_CLAIM[self.pg], params)]

    def _fenced(self, statement: sa.Update, job: Job, **params) -> bool:
        self._write()
        fence = {"b_id": job.id, "b_worker": job.leased_by, "b_attempts": job.attempts}
        return self._run(statement, {**fence, **params}).rowcount == 1

    def extend(self, job: Job, lease_until: datetime) -> bool:
        return self._fenced(_EXTEND, job, b_until=lease_until)

    def progress(self, job: Job, done: int, total: int | None) -> bool:
        return self._fenced(_PROGRESS, job, b_done=done, b_total=total)

    def complete(self, job: Job, at: datetime) -> bool:
        return self._fenced(_COMPLETE, job, b_at=at)

    def fail(self, job: Job, at: datetime, error: str, retry_at: datetime | None) -> bool:
        if retry_at is None:
            return self._fenced(_DEAD, job, b_at=at, b_error=error)
        return self._fenced(_RETRY, job, b_retry=retry_at, b_error=error)

    def counts(self) -> dict[str, int]:
        return {state: count for state, count in self._run(_COUNTS).tuples()}

    def prune(self, state: str, finished_before: datetime) -> int:
        self._write()
        return self._run(_PRUNE, {"state": state, "before": finished_before}).rowcount
