"""The job worker in this process, over a real store: runs, retries, dead jobs, progress,
heartbeats, periodic jobs, stopping."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import pytest

from charter import jobs
from charter.api import Api
from charter.config import Settings
from charter.jobs import JobType, Periodic
from charter.jobworker import LOST, JobWorker, WorkerSettings
from charter.runtime import Services
from store.memory import MemoryStore
from store.models import AuditQuery, new_job, utcnow
from tests.jobs.api import API as TEST_JOBS
from tests.jobs.api import RAN
from tests.store.conftest import make_tenant

FAST = WorkerSettings(lease_s=30, poll_s=0.05)


def services(store) -> Services:
    return Services(store=store, settings=Settings.from_env({"DATABASE_URL": "memory://"}))


def worker(store, *types: JobType, periodic=(), settings=FAST, concurrency=2, name=None) -> JobWorker:
    api = Api(name="t", handlers="tests.jobs", jobs=types or TEST_JOBS.jobs, periodic=periodic)
    return JobWorker(
        services(store), jobs.registered([api]), new_job, concurrency=concurrency, settings=settings, name=name
    )


def enqueue(store, *made):
    with store.write() as s:
        return [s.jobs.enqueue(job) for job in made]


def get(store, job):
    with store.read() as s:
        return s.jobs.get(job.id)


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def ran(store) -> list:
    with store.read() as s:
        return s.audit.query(AuditQuery(action=RAN, limit=1000))


def test_a_job_enqueued_with_its_change_runs_as_a_job_of_its_tenant(store):
    tenant = make_tenant()
    job = new_job("tests.record", {"n": 7}, tenant_id=tenant.id)
    with store.write() as s:
        s.tenants.add(tenant)
        s.jobs.enqueue(job)
    w = worker(store)
    w.start()
    try:
        done = wait_until(lambda: (found := get(store, job)).state == "done" and found)
    finally:
        assert w.stop(10)
    assert (done.attempts, done.leased_by, done.last_error) == (1, w.name, None)
    (event,) = ran(store)
    assert (event.actor_type, event.actor_id, event.recorded_by_tenant_id) == ("job", "tests.record", tenant.id)
    assert event.metadata["n"] == 7 and event.metadata["request_id"] == f"job-{job.id}-1"


def test_a_failing_job_backs_off_between_attempts_and_is_dead_when_they_are_spent(store):
    calls: list[float] = []

    def fails(context):
        calls.append(time.monotonic())
        raise RuntimeError(f"nope #{context.job.attempts}")

    def fails_once(context):
        if context.job.attempts == 1:
            raise ValueError("first time")

    w = worker(
        store,
        JobType("tests.fails", fails, max_attempts=3, backoff=lambda n: 0.2 * n),
        JobType("tests.fails_once", fails_once, backoff=lambda n: 0.0),
    )
    doomed, flaky = enqueue(store, new_job("tests.fails"), new_job("tests.fails_once"))
    w.start()
    try:
        dead = wait_until(lambda: (found := get(store, doomed)).state == "dead" and found)
        recovered = wait_until(lambda: (found := get(store, flaky)).state == "done" and found)
    finally:
        assert w.stop(10)
    assert dead.attempts == 3 and len(calls) == 3
    assert dead.last_error.startswith("Traceback") and dead.last_error.rstrip().endswith("RuntimeError: nope #3")
    assert dead.finished_at is not None
    # the waits grew: 0.2 s after the first failure, 0.4 s after the second
    assert calls[1] - calls[0] >= 0.2 and calls[2] - calls[1] >= 0.4
    assert recovered.attempts == 2 and recovered.last_error.rstrip().endswith("ValueError: first time")


def test_a_job_completed_in_its_own_write_ends_with_that_write_and_not_before(store):
    from charter.domain import Event

    def completes(context):
        with context.services.store.write() as s:
            s.record(Event("tests.job.completed_in", context.actor, "job", str(context.job.id)))
            assert context.complete_in(s)
            if context.job.attempts == 1:
                raise RuntimeError("the write fails after complete_in")  # rolled back, both of them

    w = worker(store, JobType("tests.completes", completes, backoff=lambda n: 0.0))
    (job,) = enqueue(store, new_job("tests.completes"))
    w.start()
    try:
        done = wait_until(lambda: (found := get(store, job)).state == "done" and found)
    finally:
        assert w.stop(10)
    # the first attempt's completion went with its write: the job ran again, and ended once
    assert done.attempts == 2 and done.last_error.rstrip().endswith("the write fails after complete_in")
    with store.read() as s:
        assert len(s.audit.query(AuditQuery(action="tests.job.completed_in", limit=10))) == 1


def test_backoff_doubles_up_to_its_cap_with_jitter_around_it():
    for attempts, middle in ((1, 10), (2, 20), (3, 40), (8, 1280), (9, 2560), (10, 3600), (40, 3600)):
        waits = [jobs.backoff(attempts) for _ in range(400)]
        assert all(0.5 * middle <= w < 1.5 * middle for w in waits), attempts
        assert 0.9 * middle < statistics.mean(waits) < 1.1 * middle
        assert statistics.pstdev(waits) > 0.2 * middle  # spread, not one value
    assert 0.5 <= jobs.backoff(3, base=1, cap=2) < 3.0


def test_progress_is_written_while_the_job_runs(store):
    reported, release = threading.Event(), threading.Event()

    def counts(context):
        context.progress(0, 4)
        context.progress(1, 4)  # within a second of the last: kept for later
        reported.set()
        release.wait(10)
        context.progress(2, 4)

    w = worker(store, JobType("tests.counts", counts))
    (job,) = enqueue(store, new_job("tests.counts"))
    w.start()
    try:
        assert reported.wait(10)
        running = get(store, job)
        assert (running.state, running.progress_done, running.progress_total) == ("running", 0, 4)
        release.set()
        done = wait_until(lambda: (found := get(store, job)).state == "done" and found)
    finally:
        release.set()
        assert w.stop(10)
    assert (done.progress_done, done.progress_total) == (2, 4)  # the last report, written at the end


def test_heartbeats_keep_a_job_longer_than_its_lease_with_its_worker():
    store = MemoryStore()
    short = WorkerSettings(lease_s=1, poll_s=0.05)
    first, second = worker(store, settings=short, name="first"), worker(store, settings=short, name="second")
    (job,) = enqueue(store, new_job("tests.record", {"sleep_s": 2.5}))
    first.start()
    wait_until(lambda: get(store, job).state == "running")
    second.start()
    try:
        done = wait_until(lambda: (found := get(store, job)).state == "done" and found, timeout=10)
    finally:
        assert first.stop(10) and second.stop(10)
    assert (done.attempts, done.leased_by) == (1, "first")
    assert len(ran(store)) == 1


def test_a_job_whose_lease_another_worker_took_stops_at_its_next_progress():
    store = MemoryStore()
    seen: list[int] = []

    def loops(context):
        for step in range(100):
            context.progress(step, 100)
            seen.append(step)
            time.sleep(0.05)

    w = worker(store, JobType("tests.loops", loops))
    (job,) = enqueue(store, new_job("tests.loops"))
    w.start()
    try:
        wait_until(lambda: seen)
        later = utcnow() + timedelta(minutes=1)  # as another worker sees it once the lease ran out
        with store.write() as s:
            (taken,) = s.jobs.claim("other", ["tests.loops"], later, later + timedelta(minutes=1), 1)
        wait_until(lambda: w.running == 0, timeout=5)
    finally:
        assert w.stop(10)
    assert len(seen) < 60
    assert get(store, job) == taken  # left as the other worker has it


def test_stop_lets_running_jobs_finish_and_claims_no_more():
    store = MemoryStore()
    w = worker(store, concurrency=1)
    first, second = enqueue(store, new_job("tests.record", {"sleep_s": 0.5}), new_job("tests.record"))
    w.start()
    wait_until(lambda: w.running)
    assert w.stop(10) is True
    assert get(store, first).state == "done" or get(store, second).state == "done"
    with store.read() as s:
        assert s.jobs.counts() == {"done": 1, "pending": 1}


def test_a_job_lost_with_its_worker_on_its_last_attempt_is_dead_without_running_again():
    store = MemoryStore()
    calls = []
    past = utcnow() - timedelta(minutes=5)
    (job,) = enqueue(store, new_job("tests.once", run_at=past))
    with store.write() as s:  # a worker claimed it and was lost: its lease ran out
        assert s.jobs.claim("lost", ["tests.once"], past, past + timedelta(seconds=30), 1)
    w = worker(store, JobType("tests.once", calls.append, max_attempts=1))
    w.start()
    try:
        dead = wait_until(lambda: (found := get(store, job)).state == "dead" and found)
    finally:
        assert w.stop(10)
    assert (dead.attempts, dead.last_error, calls) == (2, LOST, [])


def test_a_worker_claims_only_the_kinds_it_runs():
    store = MemoryStore()
    unknown, known = enqueue(store, new_job("tests.elsewhere"), new_job("tests.record"))
    w = worker(store)
    w.start()
    try:
        wait_until(lambda: get(store, known).state == "done")
        time.sleep(0.2)
    finally:
        assert w.stop(10)
    assert get(store, unknown).state == "pending"


def test_periodic_jobs_are_enqueued_once_per_period_whatever_the_number_of_workers(store):
    hourly = Periodic("tests.record", 3600, {"n": 1})
    workers = [worker(store, *TEST_JOBS.jobs, periodic=[hourly]) for _ in range(3)]
    now = 1_800_000_000.0  # 500000 hours since the epoch: a period starts here
    assert [w.enqueue_periodic(now + 1) for w in workers] == [1, 0, 0]
    assert [w.enqueue_periodic(now + 3599) for w in workers] == [0, 0, 0]  # the same period
    assert [w.enqueue_periodic(now + 3600) for w in reversed(workers)] == [1, 0, 0]
    with store.read() as s:
        assert s.jobs.counts() == {"pending": 2}
    job = new_job("tests.record", key="tests.record@500000")
    (first,) = enqueue(store, job)
    assert first.id != job.id  # there already, due at its period's start
    assert first.run_at.timestamp() == now and first.args == {"n": 1}


def test_job_types_and_periodic_jobs_register_with_their_api():
    def api(name, *types, periodic=()):
        return Api(name=name, handlers="tests.jobs", jobs=types, periodic=periodic)

    a, b = JobType("x.a", print), JobType("x.b", print)
    found = jobs.registered([api("one", a, periodic=[Periodic("x.a", 60)]), api("two", b)])
    assert dict(found.types) == {"x.a": a, "x.b": b} and found.periodic == (Periodic("x.a", 60),)
    with pytest.raises(ValueError, match="declared twice"):
        jobs.registered([api("one", a), api("two", a)])
    with pytest.raises(ValueError, match="no job type"):
        jobs.registered([api("one", a, periodic=[Periodic("x.b", 60)])])
    with pytest.raises(ValueError, match="declared twice"):
        jobs.registered([api("one", a, periodic=[Periodic("x.a", 60), Periodic("x.a", 30)])])
    with pytest.raises(ValueError):
        JobType("x.c", print, max_attempts=0)


def test_a_periodic_jobs_period_is_the_one_its_setting_gives():
    every = Periodic("tests.record", 3600, setting="CHARTER_TEST_EVERY_S")
    assert every.configured({}) == every
    assert every.configured({"CHARTER_TEST_EVERY_S": "60"}).every_s == 60
    with pytest.raises(SystemExit, match="CHARTER_TEST_EVERY_S"):
        every.configured({"CHARTER_TEST_EVERY_S": "0"})
    store = MemoryStore()
    env = {"DATABASE_URL": "memory://", "CHARTER_TEST_EVERY_S": "60"}
    api = Api(name="t", handlers="tests.jobs", jobs=TEST_JOBS.jobs, periodic=[every])
    w = JobWorker(Services(store=store, settings=Settings.from_env(env)), jobs.registered([api]), new_job)
    assert w.enqueue_periodic(1_800_000_000.0) == 1
    job = new_job("tests.record", key="tests.record@30000000")  # the minute's period, not the hour's
    (first,) = enqueue(store, job)
    assert first.id != job.id
