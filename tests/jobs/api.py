"""Job types for the job tests, registered as an API: the in-process tests use it directly, and
`charter worker --api tests.jobs.api` runs its jobs in worker processes.

Each job records a domain event (an audit row, in its own unit of work) naming itself and the
process that ran it, so a test reads back from the store who ran what, and how often."""

from __future__ import annotations

import os
import time

from charter.api import Api
from charter.domain import Event
from charter.jobs import Context, JobType

RAN = "tests.job.ran"
STARTED = "tests.job.started"


def _event(context: Context, action: str) -> None:
    metadata = {"n": context.args.get("n"), "pid": os.getpid(), "attempt": context.job.attempts}
    with context.services.store.write() as s:
        s.record(Event(action, context.actor, "job", str(context.job.id), metadata=metadata))


def record(context: Context) -> None:
    """Record that it ran, after sleeping `sleep_s` (default none)."""
    time.sleep(context.args.get("sleep_s", 0))
    _event(context, RAN)


def slow(context: Context) -> None:
    """Record that it started, sleep `sleep_s`, record that it ran."""
    _event(context, STARTED)
    time.sleep(context.args["sleep_s"])
    _event(context, RAN)


API = Api(
    name="tests-jobs",
    handlers="tests.jobs",
    jobs=(JobType("tests.record", record), JobType("tests.slow", slow)),
)
