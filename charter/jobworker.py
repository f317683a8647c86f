"""The job worker: claims due jobs from the store and runs them, `concurrency` at a time.

One claiming thread and `concurrency` slot threads, all daemons: a process that has to exit does
not wait for its jobs, whose leases then run out, and other workers run them again. The claiming
thread loops:

- every periodic job is enqueued once per period (charter.jobs);
- every lease_s / 3 seconds, the lease of each job this worker runs is renewed (a heartbeat),
  so a job may run far longer than its lease, and only a lost worker's jobs come back;
- as many due jobs as there are free slots are claimed, in one write, and handed to the slots at
  once: a job is claimed only when a slot is free to start it;
- when nothing was claimed it sleeps, POLL_MIN_S at first, doubling up to poll_s, woken at once
  by a slot that frees up or by stop(); a claim that filled every free slot claims again at once.

stop() stops claiming and enqueueing and waits for the running jobs, renewing their leases.

The worker reaches the store through `services.store` (the spine does not import the store):
write sessions and their `jobs` repository (store.interface.Jobs), and `record(kind, args, key=…,
run_at=…)`, which makes the store's record of a periodic job (store.models.new_job).

Settings (read by WorkerSettings.from_env): CHARTER_JOB_LEASE_S (default 30), how long a claim
holds a job without a heartbeat; CHARTER_JOB_POLL_MS (default 1000), the longest idle sleep.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from charter import runtime
from charter.config import positive, seconds
from charter.domain import JOB, Actor
from charter.jobs import Context, JobType, LeaseLost, Registered
from charter.runtime import Caller, Services

log = logging.getLogger("charter.jobs")

POLL_MIN_S = 0.05
PROGRESS_EVERY_S = 1.0  # progress is written at most this often (and whenever done reaches total)
ERROR_CHARS = 4000  # the end of a failure's traceback is kept, up to this many characters
LOST = "its worker was lost during its last attempt"


@dataclass(frozen=True)
class WorkerSettings:
    lease_s: int = 30
    poll_s: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSettings:
        return cls(
            lease_s=seconds(env, "CHARTER_JOB_LEASE_S", 30),
            poll_s=positive(env, "CHARTER_JOB_POLL_MS", 1000, "a positive number of milliseconds") / 1000,
        )


def worker_name() -> str:
    """host:pid:random, unique to one worker: what a claim records as `leased_by`."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _now() -> datetime:
    return datetime.now(UTC)


class JobWorker:
    def __init__(
        self,
        services: Services,
        jobs: Registered,
        record: Callable[..., Any],
        *,
        concurrency: int = 1,
        settings: WorkerSettings | None = None,
        name: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("a job worker needs a concurrency of at least 1")
        settings = settings or WorkerSettings.from_env(services.settings.env)
        self.name = name or worker_name()
        self.concurrency = concurrency
        self.ran = 0  # jobs this worker has run, whatever came of them
        self._services = services
        self._types: Mapping[str, JobType] = jobs.types
        self.kinds = sorted(jobs.types)
        self._periodic = tuple(p.configured(services.settings.env) for p in jobs.periodic)
        self._periods: list[int | None] = [None] * len(jobs.periodic)  # the last enqueued, each
        self._record = record
        self._lease = timedelta(seconds=settings.lease_s)
        self._beat_every = settings.lease_s / 3
        self._poll_s = settings.poll_s
        self._lock = threading.Lock()
        self._running: dict[Any, Any] = {}  # job id -> the job as claimed
        self._lost: set[Any] = set()  # ids of running jobs whose lease another worker took
        self._settling: set[Any] = set()  # ids of running jobs whose outcome is being written
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._store_down = False

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this job worker was started already")
        for slot in range(self.concurrency):
            threading.Thread(target=self._slot, name=f"job-slot-{slot}", daemon=True).start()
        self._thread = threading.Thread(target=self._loop, name="job-claimer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due jobs now (a job was just enqueued in this process, say) instead of after
        the idle sleep."""
        self._wake.set()

    def request_stop(self) -> None:
        """Stop claiming; the running jobs go on to their end."""
        self._stopping.set()
        self._wake.set()

    def stop(self, timeout: float | None = None) -> bool:
        """request_stop(), then wait up to `timeout` seconds (None: as long as it takes) for the
        running jobs; True when none is left running."""
        self.request_stop()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to stop (after request_stop); True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        for _ in range(self.concurrency):
            self._queue.put(None)
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _loop(self) -> None:
        idle = POLL_MIN_S
        next_beat = time.monotonic() + self._beat_every
        while True:
            self._wake.clear()
            stopping = self._stopping.is_set()
            with self._lock:
                free = self.concurrency - len(self._running)
            if stopping and free == self.concurrency:
                return
            claimed: list[Any] = []
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self._beat_every
                    self._heartbeat()
                if not stopping:
                    self.enqueue_periodic()
                    if free:
                        claimed = self._claim(free)
                self._reachable()
            except Exception as exc:  # the store cannot be reached, say: try again after a while
                self._unreachable(exc)
                idle = self._poll_s
            if claimed and len(claimed) == free:
                idle = POLL_MIN_S
                continue
            idle = POLL_MIN_S if claimed else min(self._poll_s, idle * 2)
            self._wake.wait(max(0.0, min(idle, next_beat - time.monotonic())))

    def _claim(self, free: int) -> list[Any]:
        now = _now()
        with self._services.store.write() as s:
            claimed = s.jobs.claim(self.name, self.kinds, now, now + self._lease, free)
        with self._lock:
            for job in claimed:
                self._running[job.id] = job
        for job in claimed:
            self._queue.put(job)
        return claimed

    def _heartbeat(self) -> None:
        with self._lock:
            running = list(self._running.values())
        if not running:
            return
        until = _now() + self._lease
        with self._services.store.write() as s:
            refused = [job for job in running if not s.jobs.extend(job, until)]
        with self._lock:
            # A job whose outcome is being written is done or failed, not lost.
            lost = [job for job in refused if job.id in self._running and job.id not in self._settling]
            self._lost.update(job.id for job in lost)
        for job in lost:
            log.warning("job %s (%s): its lease ran out and another worker took it", job.id, job.kind)

    def enqueue_periodic(self, now: float | None = None) -> int:
        """Enqueue every periodic job whose period (at `now`, epoch seconds) this worker has not
        enqueued yet; returns how many jobs that made (the others existed: another worker's)."""
        now = time.time() if now is None else now
        due = [
            (index, p, p.period(now)) for index, p in enumerate(self._periodic) if self._periods[index] != p.period(now)
        ]
        if not due:
            return 0
        made = 0
        with self._services.store.write() as s:
            for _, p, period in due:
                start = datetime.fromtimestamp(period * p.every_s, UTC)
                record = self._record(p.kind, dict(p.args), key=p.key(period), run_at=start)
                made += s.jobs.enqueue(record).id == record.id
        for index, _, period in due:
            self._periods[index] = period
        return made

    def _reachable(self) -> None:
        if self._store_down:
            self._store_down = False
            log.warning("job worker %s: the store answers again", self.name)

    def _unreachable(self, exc: Exception) -> None:
        if not self._store_down:
            self._store_down = True
            log.error("job worker %s: cannot claim jobs: %s: %s", self.name, type(exc).__name__, exc)

    # --- one job -------------------------------------------------------------------------

    def _slot(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:
                log.exception("job %s (%s): could not record how it went", job.id, job.kind)
            finally:
                with self._lock:
                    self._running.pop(job.id, None)
                    self._lost.discard(job.id)
                    self._settling.discard(job.id)
                    self.ran += 1
                self._wake.set()

    def _run(self, job: Any) -> None:
        job_type = self._types[job.kind]
        if job.attempts > job_type.max_attempts:
            self._failed(job, job_type, LOST)
            return
        request_id = f"job-{job.id}-{job.attempts}"
        actor = Actor(JOB, job.kind, tenant_id=job.tenant_id, request_id=request_id)
        reporter = _Reporter(self, job)
        tokens = runtime.bind(self._services, Caller(request_id, None, None))
        context = Context(self._services, actor, job, reporter.report)
        try:
            job_type.run(context)
            if context.completed is None:
                reporter.flush()
        except LeaseLost:
            log.warning("job %s (%s): stopped, as another worker holds it now", job.id, job.kind)
            return
        except Exception as exc:
            self._failed(job, job_type, _error_text(exc))
            return
        finally:
            runtime.reset(tokens)
        self._settle(job.id)
        held = context.completed
        if held is None:  # the handler did not complete it in its own write
            with self._services.store.write() as s:
                held = s.jobs.complete(job, _now())
        if not held:
            log.warning("job %s (%s): ran to its end after another worker took it", job.id, job.kind)

    def _failed(self, job: Any, job_type: JobType, error: str) -> None:
        self._settle(job.id)
        dead = job.attempts >= job_type.max_attempts
        delay = 0.0 if dead else job_type.backoff(job.attempts)
        now = _now()
        with self._services.store.write() as s:
            held = s.jobs.fail(job, now, error, None if dead else now + timedelta(seconds=delay))
        last_line = error.rstrip().rsplit("\n", 1)[-1]
        if not held:
            log.warning("job %s (%s): failed after another worker took it: %s", job.id, job.kind, last_line)
        elif dead:
            log.error("job %s (%s): dead after %d attempts: %s", job.id, job.kind, job.attempts, last_line)
        else:
            log.warning(
                "job %s (%s): attempt %d failed, next in %.1f s: %s", job.id, job.kind, job.attempts, delay, last_line
            )

    def _settle(self, job_id: Any) -> None:
        with self._lock:
            self._settling.add(job_id)

    def _is_lost(self, job_id: Any) -> bool:
        with self._lock:
            return job_id in self._lost

    def _mark_lost(self, job_id: Any) -> None:
        with self._lock:
            self._lost.add(job_id)


class _Reporter:
    """A running job's progress: written now and then, each write checking the job is still ours."""

    def __init__(self, worker: JobWorker, job: Any) -> None:
        self._worker = worker
        self._job = job
        self._written_at = float("-inf")
        self._unwritten: tuple[int, int | None] | None = None

    def report(self, done: int, total: int | None) -> None:
        if self._worker._is_lost(self._job.id):
            raise LeaseLost(str(self._job.id))
        if (total is not None and done >= total) or time.monotonic() - self._written_at >= PROGRESS_EVERY_S:
            self._write(done, total)
        else:
            self._unwritten = (done, total)

    def flush(self) -> None:
        if self._unwritten is not None:
            self._write(*self._unwritten)

    def _write(self, done: int, total: int | None) -> None:
        with self._worker._services.store.write() as s:
            held = s.jobs.progress(self._job, done, total)
        self._written_at = time.monotonic()
        self._unwritten = None
        if not held:
            self._worker._mark_lost(self._job.id)
            raise LeaseLost(str(self._job.id))


def _error_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text if len(text) <= ERROR_CHARS else "…" + text[-ERROR_CHARS:]
