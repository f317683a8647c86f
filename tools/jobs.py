"""`charter worker`: a process that runs jobs, `--concurrency` at a time, until SIGTERM or SIGINT.

The first signal stops claiming and lets the running jobs finish; a second one exits at once, and
the jobs it leaves come back to other workers when their leases run out. Any number of these
processes, on any number of machines, share one PostgreSQL database (they need its
CHARTER_SECRET_KEY, as `charter serve` does); on SQLite they share the file with `charter serve`.
The memory store lives inside one process: its jobs run in `charter serve`'s in-process worker.

`--api MODULE` also runs the jobs of the API that MODULE registers (its `API`), beside those of
every registered API: jobs of a deployment's own, or of a test.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from charter.config import Settings

DEFAULT_CONCURRENCY = 4


def work(settings: Settings, concurrency: int, modules: list[str]) -> int:
    from server.secret_key import problem as key_problem
    from tools.serve import prepare_store

    problem = key_problem(settings)
    if problem is None and settings.database_url.startswith("memory://"):
        problem = (
            "the memory store lives inside one process: its jobs run in `charter serve` "
            "(CHARTER_INPROCESS_WORKER); set DATABASE_URL to sqlite:///… or postgresql://…"
        )
    problem = problem or prepare_store(settings)
    if problem:
        print(f"charter worker: {problem}", file=sys.stderr)
        return 2
    try:
        extra = [importlib.import_module(module).API for module in modules]
    except (ImportError, AttributeError) as exc:
        print(f"charter worker: --api: {exc}", file=sys.stderr)
        return 2

    from charter import logs
    from server.app import create_worker

    logs.configure()
    worker = create_worker(settings, concurrency=concurrency, extra=extra)

    def on_signal(signum: int, _frame: object) -> None:
        if worker.running and not signal_seen:
            print(
                f"charter worker: stopping after {worker.running} running job(s); again to exit at once",
                file=sys.stderr,
            )
        if signal_seen:
            os._exit(128 + signum)
        signal_seen.append(signum)
        worker.request_stop()

    signal_seen: list[int] = []
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    print(
        f"charter worker: {worker.name} runs {', '.join(worker.kinds) or 'no'} jobs, {concurrency} at a time "
        f"(store {settings.database_url.split('://')[0]})",
        file=sys.stderr,
    )
    while not worker.join(0.5):
        pass
    print(f"charter worker: stopped after {worker.ran} job(s)", file=sys.stderr)
    return 0
