"""Wake-ups for idle job workers on PostgreSQL: a connection that LISTENs on the channel the
store NOTIFYs when a commit enqueues deliveries (store.sql.deliveries), so a worker in another
process or on another machine claims at once instead of after its poll (CHARTER_JOB_POLL_MS).
A lost connection is made again; meanwhile the workers poll as before."""

from __future__ import annotations

import logging
import threading
import time
import weakref

import psycopg

from charter.jobworker import JobWorker
from store.sql.deliveries import NOTIFY_CHANNEL

log = logging.getLogger("charter.jobs")
RECONNECT_S = 1.0


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


def listen(url: str, worker: JobWorker) -> threading.Thread:
    """A daemon thread that wakes `worker` on every notification, until the worker stops."""
    ref = weakref.ref(worker)

    def alive() -> JobWorker | None:
        found = ref()
        return None if found is None or found.stopping else found

    def run() -> None:
        while alive() is not None:
            try:
                with psycopg.connect(_plain(url), autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while (found := alive()) is not None:
                        for _ in conn.notifies(timeout=1.0):
                            found.wake()
            except psycopg.Error as exc:
                log.warning("job wake-ups: %s; polling until the connection is back", exc)
                time.sleep(RECONNECT_S)

    thread = threading.Thread(target=run, name="job-wake", daemon=True)
    thread.start()
    return thread
