"""Jobs across real processes: `charter worker` processes sharing one PostgreSQL queue, one of
them killed mid-job, and `charter serve`'s in-process worker (on SQLite by default, not on
PostgreSQL)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from charter.config import Settings
from server.jobs import inprocess_wanted
from services.gateway import housekeeping
from store.models import AuditQuery, new_job
from store.sql import SqlStore
from tests.jobs.api import RAN, STARTED
from tests.tools.serving import start, start_worker, stop, wait_for, wait_up
from tools.server import free_port


def events(store, action) -> list:
    with store.read() as s:
        return s.audit.query(AuditQuery(action=action, limit=1000))


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def workers(tmp_path, count, env, *args):
    """`count` workers running the test jobs, each up (its start line logged)."""
    procs = []
    for i in range(count):
        log = tmp_path / f"worker-{i}.log"
        procs.append((start_worker(tmp_path, "--api", "tests.jobs.api", *args, env=env, log=log), log))
    for proc, log in procs:
        wait_for(proc, log, "charter worker: ")
    return procs


def stop_all(procs) -> None:
    for proc, _ in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, _ in procs:
        proc.wait(timeout=30)


def test_two_worker_processes_share_one_queue_and_run_every_job_once(tmp_path, pg_url, pg_store):
    procs = workers(tmp_path, 2, {"DATABASE_URL": pg_url, "CHARTER_JOB_POLL_MS": "100"}, "--concurrency", "4")
    try:
        with pg_store.write() as s:
            made = [s.jobs.enqueue(new_job("tests.record", {"n": n, "sleep_s": 0.02})) for n in range(200)]
        wait_until(lambda: len(events(pg_store, RAN)) >= 200)
    finally:
        stop_all(procs)
    for proc, log in procs:
        assert proc.returncode == 0 and "charter worker: stopped after" in log.read_text(), log.read_text()
    ran = events(pg_store, RAN)
    assert sorted(e.metadata["n"] for e in ran) == list(range(200))  # every job once, none twice
    assert {e.metadata["pid"] for e in ran} == {proc.pid for proc, _ in procs}  # both took part
    with pg_store.read() as s:
        assert {(j.state, j.attempts) for j in (s.jobs.get(job.id) for job in made)} == {("done", 1)}


def test_a_job_whose_worker_is_killed_comes_back_after_its_lease_and_completes(tmp_path, pg_url, pg_store):
    env = {"DATABASE_URL": pg_url, "CHARTER_JOB_LEASE_S": "2", "CHARTER_JOB_POLL_MS": "100"}
    procs = workers(tmp_path, 2, env, "--concurrency", "1")
    try:
        with pg_store.write() as s:
            # longer than the lease: the worker that finishes it renews it as it runs
            job = s.jobs.enqueue(new_job("tests.slow", {"sleep_s": 3}))
        (started,) = wait_until(lambda: events(pg_store, STARTED))
        victim = started.metadata["pid"]
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: events(pg_store, RAN), timeout=30)
        assert time.monotonic() - killed_at >= 3  # not before the lease ran out and the job ran again
    finally:
        stop_all(procs)
    (survivor,) = {proc.pid for proc, _ in procs} - {victim}
    with pg_store.read() as s:
        done = s.jobs.get(job.id)
    assert (done.state, done.attempts) == ("done", 2)
    assert f":{survivor}:" in done.leased_by
    assert [e.metadata["pid"] for e in events(pg_store, STARTED)] == [survivor, victim]  # newest first
    assert [e.metadata["pid"] for e in events(pg_store, RAN)] == [survivor]


def test_worker_on_postgres_without_a_secret_key_refuses_in_one_line(tmp_path, pg_url):
    proc = start_worker(tmp_path, env={"DATABASE_URL": pg_url, "CHARTER_SECRET_KEY": ""})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("charter worker: CHARTER_SECRET_KEY is required on PostgreSQL"), err


def test_worker_refuses_the_memory_store(tmp_path):
    proc = start_worker(tmp_path, env={"DATABASE_URL": "memory://"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "charter serve" in err and len(err.strip().splitlines()) == 1


def test_serve_on_sqlite_runs_jobs_in_process(tmp_path):
    port = free_port()
    proc = start(tmp_path, env={"CHARTER_PORT": str(port)})
    try:
        wait_up(proc, f"http://127.0.0.1:{port}")
        store = SqlStore(f"sqlite:///{tmp_path / 'charter.db'}")

        def finished():
            with store.read() as s:  # a read is one snapshot on SQLite: a new one each time
                return s.jobs.counts().get("done")

        from server.apis import APIS

        periodic = sum(len(api.periodic) for api in APIS)  # the sweep, licensing's expiries, …
        done = wait_until(lambda: (finished() or 0) >= periodic or None, timeout=20) and finished()
        store.close()
    finally:
        stop(proc)
    assert done == periodic  # each periodic job enqueued once for this period, and run


def test_serve_on_postgres_leaves_jobs_to_charter_worker(tmp_path, pg_url, pg_store):
    port = free_port()
    proc = start(tmp_path, env={"CHARTER_PORT": str(port), "DATABASE_URL": pg_url})
    try:
        wait_up(proc, f"http://127.0.0.1:{port}")
        with pg_store.write() as s:
            job = s.jobs.enqueue(new_job(housekeeping.KIND))
        time.sleep(1.5)
        with pg_store.read() as s:
            assert s.jobs.counts() == {"pending": 1}  # nothing enqueued the periodic sweep, nothing ran this one
            assert s.jobs.get(job.id).attempts == 0
    finally:
        stop(proc)


@pytest.mark.parametrize(
    ("url", "value", "wanted"),
    [
        ("sqlite:///x.db", "", True),
        ("memory://", "", True),
        ("postgresql://db/app", "", False),
        ("postgres://db/app", "1", True),
        ("sqlite:///x.db", "0", False),
        ("sqlite:///x.db", "off", False),
    ],
)
def test_the_in_process_worker_is_on_by_default_except_on_postgres(url, value, wanted):
    assert inprocess_wanted(Settings.from_env({"DATABASE_URL": url, "CHARTER_INPROCESS_WORKER": value})) is wanted
    with pytest.raises(SystemExit, match="CHARTER_INPROCESS_WORKER"):
        inprocess_wanted(Settings.from_env({"DATABASE_URL": url, "CHARTER_INPROCESS_WORKER": "maybe"}))
