"""Housekeeping: what has run out of time is deleted, by the `platform.sweep` job every ten
minutes (on any worker: exactly one run per period).

Each step deletes in batches, one write each, until nothing is left: answers kept for
Idempotency-Key replays that expired, signing keys no longer published, done jobs after a week
and dead ones after thirty days (kept that long to be looked into).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from charter.jobs import Context, JobType, Periodic
from store.interface import Session
from store.models import utcnow

KIND = "platform.sweep"
EVERY_S = 600
DONE_JOBS_KEPT = timedelta(days=7)
DEAD_JOBS_KEPT = timedelta(days=30)


def sweep(context: Context) -> None:
    now = utcnow()
    steps: list[Callable[[Session], int]] = [
        lambda s: s.kept_answers.prune(now),
        lambda s: s.signing_keys.prune(now),
        lambda s: s.jobs.prune("done", now - DONE_JOBS_KEPT),
        lambda s: s.jobs.prune("dead", now - DEAD_JOBS_KEPT),
    ]
    store = context.services.store
    for done, step in enumerate(steps):
        context.progress(done, len(steps))
        while True:
            with store.write() as s:
                if not step(s):
                    break
    context.progress(len(steps), len(steps))


JOBS = (JobType(KIND, sweep, max_attempts=3),)
PERIODIC = (Periodic(KIND, EVERY_S),)
