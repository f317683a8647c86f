"""Background jobs as APIs declare them: job types, periodic jobs, the retry policy, and what a
job's handler is given.

An API lists the jobs it runs, `Api(jobs=[JobType("billing.invoice", run)], periodic=[Periodic(
"billing.invoice", every_s=3600)])`. A job is a row in the store (store.models.Job), enqueued by a
service in the write of the change that causes it, `s.jobs.enqueue(new_job(kind, args, key=…))`,
so the two commit together or not at all; charter.jobworker claims and runs it.

`run(context)` does the job: it calls services with `context.actor` (a JOB actor for the job's
tenant, if any), each of their writes its own unit of work. Returning is success; raising is a
failed attempt, tried again after `backoff(attempts)` seconds until `max_attempts` attempts are
spent, and then the job is dead. A job runs at least once: when its worker is lost mid-run, its
lease runs out and another worker runs it again, so what it does must be safe to do twice.

A periodic job is enqueued by every worker once per period, under the key `<kind>@<period>`
(`period` = floor(epoch seconds / every_s)), so of any number of workers exactly one enqueue per
period makes a job. A period nobody was running for is skipped, not made up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from charter.config import seconds
from charter.domain import Actor

if TYPE_CHECKING:
    from charter.api import Api
    from charter.runtime import Services

BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
MAX_ATTEMPTS = 10


def backoff(attempts: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Seconds to wait after a job's `attempts`-th failed attempt: min(cap, base * 2**(attempts-1))
    times a random factor in [0.5, 1.5), so jobs that failed together do not retry together. With
    the defaults about 10 s, 20 s, 40 s … (an hour at most): the ten attempts of MAX_ATTEMPTS
    span about an hour and a half."""
    return min(cap, base * 2.0 ** max(attempts - 1, 0)) * random.uniform(0.5, 1.5)


class LeaseLost(Exception):
    """The worker no longer holds the job (its lease ran out and another worker claimed it):
    raised by Context.progress, so the run stops; nothing of its outcome is recorded."""


Progress = Callable[[int, "int | None"], None]


class Context:
    """What a job's handler gets: the services, who acts, the job (the store's record: id, kind,
    key, args, tenant_id, attempts), `progress(done, total)` and `complete_in(session)`."""

    __slots__ = ("_report", "actor", "completed", "job", "services")

    def __init__(self, services: Services, actor: Actor, job: Any, report: Progress) -> None:
        self.services = services
        self.actor = actor
        self.job = job
        self._report = report
        self.completed: bool | None = None  # what complete_in found: None when it was not called

    def complete_in(self, session: Any, at: datetime | None = None) -> bool:
        """Mark the job done in the handler's own write `session`, so the job's end commits with
        the last change it makes (one transaction, not two). Call it last in that write, and
        return once it has committed: the worker then writes nothing more for this run (should
        the commit fail, the run raises and is a failed attempt like any other). False when the
        job is no longer this worker's (another took it once its lease ran out)."""
        self.completed = bool(session.jobs.complete(self.job, at or datetime.now(UTC)))
        return self.completed

    @property
    def args(self) -> dict:
        args: dict = self.job.args
        return args

    def progress(self, done: int, total: int | None = None) -> None:
        """Report how far the job is (`total` None: not known). Written at most about once a
        second, and always when done reaches total; raises LeaseLost when the job is no longer
        this worker's."""
        self._report(done, total)


Run = Callable[[Context], None]


@dataclass(frozen=True)
class JobType:
    kind: str  # "<api>.<what>", unique across APIs
    run: Run
    max_attempts: int = MAX_ATTEMPTS
    backoff: Callable[[int], float] = backoff  # failed attempts so far -> seconds until the next

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"job type {self.kind}: max_attempts must be at least 1")


@dataclass(frozen=True)
class Periodic:
    """Enqueue a job of `kind` with `args` once every `every_s` seconds (a whole number), or as
    many as the setting named `setting` says, when it is set (read by the worker: `configured`)."""

    kind: str
    every_s: int
    args: Mapping[str, Any] = field(default_factory=dict)
    setting: str | None = None

    def __post_init__(self) -> None:
        if self.every_s < 1:
            raise ValueError(f"periodic {self.kind}: every_s must be at least 1")

    def configured(self, env: Mapping[str, str]) -> Periodic:
        """This periodic job with the period its setting gives in `env` (SystemExit naming the
        setting when it is not a positive whole number)."""
        if self.setting is None:
            return self
        return replace(self, every_s=seconds(env, self.setting, self.every_s))

    def period(self, now: float) -> int:
        """The index of the period `now` (epoch seconds) is in."""
        return math.floor(now / self.every_s)

    def key(self, period: int) -> str:
        return f"{self.kind}@{period}"


@dataclass(frozen=True)
class Registered:
    """Every job type of some APIs, by kind, and their periodic jobs."""

    types: Mapping[str, JobType]
    periodic: tuple[Periodic, ...]


def registered(apis: Iterable[Api]) -> Registered:
    """The job types and periodic jobs of `apis`; ValueError when two job types or two periodic
    jobs have one kind, or a periodic job has no job type."""
    types: dict[str, JobType] = {}
    periodic: list[Periodic] = []
    for api in apis:
        for job_type in api.jobs:
            if job_type.kind in types:
                raise ValueError(f"job type {job_type.kind} is declared twice (the second by API {api.name})")
            types[job_type.kind] = job_type
        periodic.extend(api.periodic)
    kinds = [p.kind for p in periodic]
    for kind in kinds:
        if kind not in types:
            raise ValueError(f"periodic job {kind} has no job type")
        if kinds.count(kind) > 1:  # the keys of their periods would be one
            raise ValueError(f"periodic job {kind} is declared twice")
    return Registered(types, tuple(periodic))
