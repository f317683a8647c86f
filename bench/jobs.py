"""python -m bench.jobs: how many jobs one job worker claims and runs per second, on each store.

N jobs are enqueued first (not timed), then one JobWorker (what `charter worker` and the
in-process worker run) drains them; the time from its start to the last job done is measured.
Two job kinds: `noop` does nothing (the queue's own cost: the claim, and the complete, each a
write), `audited` records a domain event in a write of its own (one more transaction, as a job
that changes something does). No peer yet: the numbers describe the queue on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import databases
from charter import jobs
from charter.api import Api
from charter.config import Settings
from charter.domain import Event
from charter.jobs import Context, JobType
from charter.jobworker import JobWorker, WorkerSettings
from charter.runtime import Services
from store import open_store
from store.models import new_job


def _noop(context: Context) -> None:
    return None


def _audited(context: Context) -> None:
    with context.services.store.write() as s:
        s.record(Event("bench.job.ran", context.actor, "job", str(context.job.id)))


TYPES = {"noop": JobType("bench.noop", _noop), "audited": JobType("bench.audited", _audited)}


def run(url: str, kind: str, count: int, concurrency: int) -> float:
    """Jobs per second for `count` jobs of `kind` on the store at `url`."""
    store = open_store(url)
    try:
        job_type = TYPES[kind]
        with store.write() as s:
            for n in range(count):
                s.jobs.enqueue(new_job(job_type.kind, {"n": n}))
        services = Services(store=store, settings=Settings.from_env({"DATABASE_URL": url}))
        registered = jobs.registered([Api(name="bench", handlers="bench", jobs=[job_type])])
        worker = JobWorker(services, registered, new_job, concurrency=concurrency, settings=WorkerSettings(poll_s=0.05))
        started = time.perf_counter()
        worker.start()
        while True:
            with store.read() as s:
                if s.jobs.counts().get("done", 0) >= count:
                    break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        worker.stop(30)
        return count / elapsed
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2000, help="jobs per row (default 2000)")
    p.add_argument("--concurrency", type=int, action="append", help="worker concurrency (repeatable; default 1 and 4)")
    p.add_argument(
        "--store", action="append", choices=["memory", "sqlite", "postgres"], help="(repeatable; default all)"
    )
    args = p.parse_args(argv)
    stores = args.store or ["memory", "sqlite", "postgres"]
    if "postgres" in stores and (problem := databases.postgres_problem()):
        print(f"skipping PostgreSQL: {problem}")
        stores.remove("postgres")
    print(f"{'store':<10} {'job':<8} {'concurrency':>11} {'jobs/s':>9}")
    with tempfile.TemporaryDirectory(prefix="charter-bench-jobs-") as tmp:
        for store in stores:
            for kind in TYPES:
                for concurrency in args.concurrency or [1, 4]:
                    with ExitStack() as stack:
                        if store == "memory":
                            url = "memory://"
                        elif store == "sqlite":
                            url = databases.sqlite_file(Path(tmp) / f"{kind}-{concurrency}.db")
                        else:
                            url = stack.enter_context(databases.postgres_schema("jobs"))
                        rate = run(url, kind, args.jobs, concurrency)
                    print(f"{store:<10} {kind:<8} {concurrency:>11} {rate:>9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
