"""Background jobs: the same queue on memory, SQLite and PostgreSQL (enqueue, claim, leases, the
claim's fence, retries, progress, pruning)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from store.errors import Conflict
from store.models import utcnow

KINDS = ["tests.job"]
T0 = utcnow().replace(microsecond=0)


class Boom(Exception):
    pass


def _claim(store, worker="w1", now=T0, lease_s=30, limit=10, kinds=KINDS):
    with store.write() as s:
        return s.jobs.claim(worker, kinds, now, now + timedelta(seconds=lease_s), limit)


def _enqueue(store, *jobs):
    with store.write() as s:
        return [s.jobs.enqueue(job) for job in jobs]


def _get(store, job):
    with store.read() as s:
        return s.jobs.get(job.id)


def test_enqueue_then_get_returns_every_field(store, tenant_in, make):
    tenant = tenant_in()
    job = make.job(args={"tenant": str(tenant.id), "nested": {"a": [1, 2.5, None]}}, key="k1", tenant_id=tenant.id)
    (returned,) = _enqueue(store, job)
    assert returned == job
    found = _get(store, job)
    assert found == job
    assert (found.state, found.attempts, found.leased_by, found.finished_at) == ("pending", 0, None, None)
    found.args["nested"]["a"].append(3)
    assert _get(store, job).args == job.args  # a copy


def test_enqueue_is_idempotent_by_kind_and_key(store, make):
    first = make.job(key="once", args={"n": 1})
    again = make.job(key="once", args={"n": 2})
    other_kind = make.job("tests.other", key="once")
    assert _enqueue(store, first, again, other_kind) == [first, first, other_kind]
    assert _get(store, again) is None
    assert _get(store, first).args == {"n": 1}
    with store.read() as s:
        assert s.jobs.counts() == {"pending": 2}
    with pytest.raises(Conflict):
        _enqueue(store, make.job(id=first.id, key="another"))


def test_a_job_enqueued_in_a_write_that_raises_is_not_there(store, make):
    tenant, job = make.tenant(), make.job()
    with pytest.raises(Boom):
        with store.write() as s:
            s.tenants.add(tenant)
            s.jobs.enqueue(job)
            raise Boom()
    with store.read() as s:
        assert s.tenants.get(tenant.id) is None
        assert s.jobs.get(job.id) is None
    with store.write() as s:  # and committed with its change when the write ends well
        s.tenants.add(tenant)
        s.jobs.enqueue(job)
    with store.read() as s:
        assert s.tenants.get(tenant.id) is not None and s.jobs.get(job.id) is not None


def test_claim_takes_due_jobs_of_its_kinds_soonest_first_up_to_the_limit(store, make):
    late, early, middle = (make.job(run_at=T0 - timedelta(seconds=s)) for s in (1, 3, 2))
    future = make.job(run_at=T0 + timedelta(seconds=1))
    other = make.job("tests.other", run_at=T0 - timedelta(seconds=9))
    _enqueue(store, late, early, middle, future, other)
    first = _claim(store, limit=2)
    assert {j.id for j in first} == {early.id, middle.id}
    assert [j.id for j in _claim(store, limit=2)] == [late.id]
    assert _claim(store) == []  # the future one is not due, the other kind is not asked for
    assert [j.id for j in _claim(store, kinds=["tests.other"])] == [other.id]
    assert _claim(store, now=T0 + timedelta(seconds=1), limit=0) == []
    assert [j.id for j in _claim(store, now=T0 + timedelta(seconds=1))] == [future.id]


def test_a_claimed_job_is_running_leased_to_its_worker_with_one_attempt_more(store, make):
    job = make.job(run_at=T0)
    _enqueue(store, job)
    (claimed,) = _claim(store, "worker-a", lease_s=30)
    expected = replace(job, state="running", attempts=1, leased_by="worker-a", run_at=T0 + timedelta(seconds=30))
    assert claimed == expected
    assert _get(store, job) == expected


def test_a_lost_workers_job_comes_back_when_its_lease_runs_out(store, make):
    job = make.job(run_at=T0)
    _enqueue(store, job)
    (first,) = _claim(store, "w1", lease_s=30)
    assert _claim(store, "w2", now=T0 + timedelta(seconds=29)) == []
    (second,) = _claim(store, "w2", now=T0 + timedelta(seconds=30), lease_s=30)
    assert (second.id, second.attempts, second.leased_by) == (job.id, 2, "w2")
    assert second.run_at == T0 + timedelta(seconds=60)
    with store.write() as s:  # the lost worker's claim no longer holds the job
        assert s.jobs.extend(first, T0 + timedelta(hours=1)) is False
        assert s.jobs.progress(first, 1, 2) is False
        assert s.jobs.complete(first, T0) is False
        assert s.jobs.fail(first, T0, "late", None) is False
    assert _get(store, job) == second
    with store.write() as s:
        assert s.jobs.extend(second, T0 + timedelta(seconds=90)) is True
    assert _claim(store, "w3", now=T0 + timedelta(seconds=60)) == []  # the lease was renewed
    with store.write() as s:
        assert s.jobs.complete(second, T0 + timedelta(seconds=61)) is True
        assert s.jobs.complete(second, T0 + timedelta(seconds=62)) is False  # done already
    done = _get(store, job)
    assert (done.state, done.finished_at, done.leased_by, done.attempts) == (
        "done",
        T0 + timedelta(seconds=61),
        "w2",
        2,
    )
    assert _claim(store, "w3", now=T0 + timedelta(days=1)) == []


def test_one_worker_reclaiming_its_own_job_is_a_new_claim(store, make):
    """The fence is the claim (worker and attempt), not the worker's name alone."""
    _enqueue(store, make.job(run_at=T0))
    (first,) = _claim(store, "w1", lease_s=1)
    (second,) = _claim(store, "w1", now=T0 + timedelta(seconds=1))
    with store.write() as s:
        assert s.jobs.complete(first, T0) is False
        assert s.jobs.complete(second, T0) is True


def test_a_failed_attempt_is_pending_again_from_retry_at_and_dead_without_one(store, make):
    job = make.job(run_at=T0)
    _enqueue(store, job)
    (claimed,) = _claim(store)
    retry_at = T0 + timedelta(seconds=20)
    with store.write() as s:
        assert s.jobs.fail(claimed, T0 + timedelta(seconds=1), "ValueError: bad", retry_at) is True
    found = _get(store, job)
    assert (found.state, found.run_at, found.last_error, found.finished_at) == (
        "pending",
        retry_at,
        "ValueError: bad",
        None,
    )
    assert _claim(store, now=retry_at - timedelta(seconds=1)) == []
    (again,) = _claim(store, now=retry_at)
    assert again.attempts == 2
    with store.write() as s:
        assert s.jobs.fail(again, retry_at, "ValueError: still bad", None) is True
        assert s.jobs.fail(again, retry_at, "twice", None) is False
    dead = _get(store, job)
    assert (dead.state, dead.finished_at, dead.last_error) == ("dead", retry_at, "ValueError: still bad")
    assert _claim(store, now=T0 + timedelta(days=1)) == []


def test_progress_is_recorded_while_the_claim_holds(store, make):
    job = make.job(run_at=T0)
    _enqueue(store, job)
    (claimed,) = _claim(store)
    with store.write() as s:
        assert s.jobs.progress(claimed, 3, None) is True
    assert (_get(store, job).progress_done, _get(store, job).progress_total) == (3, None)
    with store.write() as s:
        assert s.jobs.progress(claimed, 2**40, 2**41) is True  # beyond 32 bits
        assert s.jobs.complete(claimed, T0) is True
        assert s.jobs.progress(claimed, 9, 9) is False
    assert (_get(store, job).progress_done, _get(store, job).progress_total) == (2**40, 2**41)


def test_counts_and_prune_of_finished_jobs(store, make):
    week_ago = T0 - timedelta(days=7)
    old_done = make.job(key="old-done", state="done", finished_at=week_ago - timedelta(seconds=1))
    new_done = make.job(key="new-done", state="done", finished_at=week_ago)
    old_dead = make.job(key="old-dead", state="dead", finished_at=week_ago - timedelta(days=1))
    pending = make.job(key="pending")
    _enqueue(store, old_done, new_done, old_dead, pending)
    with store.read() as s:
        assert s.jobs.counts() == {"done": 2, "dead": 1, "pending": 1}
    with store.write() as s:
        assert s.jobs.prune("done", week_ago) == 1
        assert s.jobs.prune("done", week_ago) == 0
    with store.read() as s:
        assert s.jobs.get(old_done.id) is None and s.jobs.get(new_done.id) is not None
        assert s.jobs.counts() == {"done": 1, "dead": 1, "pending": 1}
    with store.write() as s:
        assert s.jobs.prune("dead", week_ago) == 1
        assert s.jobs.prune("pending", T0 + timedelta(days=1)) == 0  # never finished
    # a pruned key is free again
    assert _enqueue(store, make.job(key="old-done"))[0].id != old_done.id


def test_concurrent_claims_never_hand_one_job_to_two_claimers(store, make):
    jobs = [make.job(run_at=T0 - timedelta(milliseconds=i)) for i in range(120)]
    _enqueue(store, *jobs)
    got: dict[str, list] = {}
    start = threading.Barrier(8)

    def claimer(name: str) -> None:
        mine = got.setdefault(name, [])
        start.wait()
        while True:
            claimed = _claim(store, name, limit=3)
            if not claimed:
                return
            mine.extend(j.id for j in claimed)
            time.sleep(0.001)  # let the others in: the memory store claims faster than a thread switch

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [job_id for ids in got.values() for job_id in ids]
    assert sorted(taken) == sorted(j.id for j in jobs)  # every job once, none twice
    assert sum(1 for ids in got.values() if ids) > 1  # and the claimers did run side by side
    with store.read() as s:
        assert s.jobs.counts() == {"running": 120}
