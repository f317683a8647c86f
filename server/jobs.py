"""This server's job workers: the one `charter serve` runs inside each of its processes, and the
one `charter worker` runs (server.app.create_worker).

CHARTER_INPROCESS_WORKER says whether `charter serve` (and server.asgi) runs one: on by default on
SQLite and memory, where the server is the whole deployment; off by default on PostgreSQL, where
`charter worker` processes do the work (any number of them, on any number of machines). 1 or 0
overrides the default. The in-process worker runs on threads of its own, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from charter import jobs
from charter.api import Api, Lifespan, mounted
from charter.config import Settings, flag
from charter.jobworker import JobWorker
from charter.runtime import Services
from server import wake
from store import unit_of_work
from store.models import new_job

log = logging.getLogger("charter.jobs")

INPROCESS_CONCURRENCY = 2
# Inside gunicorn's graceful timeout (10 s): a job still running then is left to its lease, and
# another worker runs it again.
STOP_TIMEOUT_S = 8.0


def inprocess_wanted(settings: Settings) -> bool:
    postgres = settings.database_url.startswith(("postgres://", "postgresql"))
    return flag(settings.env, "CHARTER_INPROCESS_WORKER", not postgres)


_WORKERS: weakref.WeakSet[JobWorker] = weakref.WeakSet()


def _wake_all() -> None:
    for worker in list(_WORKERS):
        worker.wake()


unit_of_work.AFTER_COMMIT.append(_wake_all)


def job_worker(services: Services, apis: Sequence[Api], concurrency: int) -> JobWorker:
    """A worker for the jobs of `apis`, over `services` (whose components those APIs built),
    woken by every commit of this process that enqueued deliveries, and on PostgreSQL by those of
    any process (server.wake)."""
    worker = JobWorker(services, jobs.registered(apis), new_job, concurrency=concurrency)
    _WORKERS.add(worker)
    if services.settings.database_url.startswith(("postgres://", "postgresql")):
        wake.listen(services.settings.database_url, worker)  # and by every commit of other processes
    return worker


def inprocess(apis: Sequence[Api]) -> Lifespan:
    """A lifespan hook: a job worker for the mounted APIs' jobs while the app runs."""

    @asynccontextmanager
    async def run(services: Services) -> AsyncIterator[None]:
        worker = job_worker(services, mounted(apis, services.settings.specs), INPROCESS_CONCURRENCY)
        worker.start()
        try:
            yield
        finally:
            if not await asyncio.to_thread(worker.stop, STOP_TIMEOUT_S):
                log.warning(
                    "in-process job worker: %d job(s) still running at shutdown are left to their lease", worker.running
                )

    return run
