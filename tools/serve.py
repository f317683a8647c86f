"""`charter serve`: gunicorn with uvicorn workers, after making sure the schema is current. Each
worker process also runs background jobs when CHARTER_INPROCESS_WORKER wants it (server.jobs)."""

from __future__ import annotations

import errno
import gc
import socket
import sys

from charter.config import Settings
from store.errors import Unavailable

WORKER_CLASS = "tools.worker.CharterWorker"


def prepare_store(settings: Settings) -> str | None:
    """Migrate SQLite by itself; refuse a Postgres schema that is behind. Returns an error text."""
    url = settings.database_url
    if url.startswith("memory://"):
        if settings.workers > 1:
            return (
                "the memory store lives inside one process: serve it with --workers 1, "
                "or set DATABASE_URL to sqlite:///… or postgresql://…"
            )
        return None
    from store.sql import migrate
    from store.sql.engine import normalise_url

    try:
        normalise_url(url)
    except ValueError as exc:
        return f"DATABASE_URL: {exc} (use sqlite:///path, postgresql://… or memory://)"
    try:
        if url.startswith("sqlite"):
            migrate.upgrade(url)
            return None
        if not migrate.is_current(url):
            return (
                f"the database schema is at {migrate.current(url) or 'nothing'} but this Charter "
                f"needs {migrate.head()}: run `charter migrate` first"
            )
    except Unavailable as exc:
        return unreachable(url, exc)
    return None


def unreachable(url: str, exc: Exception) -> str:
    """One line naming the database's host and port, and why it cannot be reached."""
    from store.sql.engine import normalise_url

    parsed = normalise_url(url)
    where = parsed.database if parsed.get_backend_name() == "sqlite" else f"{parsed.host}:{parsed.port or 5432}"
    cause = str(exc).removeprefix("database unavailable: ").split(": ", 1)[-1]
    return f"DATABASE_URL: cannot reach the database at {where}: {cause}"


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on, or None (the socket is closed again at once)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use by another process"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def serve(settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication

    from server.secret_key import problem as key_problem

    problem = key_problem(settings) or port_problem(settings.host, settings.port) or prepare_store(settings)
    if problem:
        print(f"charter serve: {problem}", file=sys.stderr)
        return 2

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("worker_class", WORKER_CLASS)
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 10)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn 27's control socket has one default path per user: a second
                # `charter serve` on the host would take over the first one's.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            from charter import logs
            from server.app import create_app

            logs.configure()
            app = create_app(settings=settings, inprocess_worker=True)
            # What start-up built (specs, validators, routes) lives as long as the worker: keep it
            # out of every later garbage collection's scan.
            gc.collect()
            gc.freeze()
            return app

    from server.jobs import inprocess_wanted

    jobs = "jobs run in-process" if inprocess_wanted(settings) else "jobs run by `charter worker`"
    print(
        f"charter: serving on http://{settings.host}:{settings.port} "
        f"(docs at /docs, store {settings.database_url.split('://')[0]}, "
        f"{settings.workers} worker{'s' if settings.workers != 1 else ''}, {jobs})",
        file=sys.stderr,
    )
    from auth.settings import AuthSettings

    if AuthSettings.from_env(settings.env).admin_key is None:
        print(
            "charter: most operations need a credential: set CHARTER_ADMIN_KEY (a bootstrap "
            "platform_admin key) or make a user with `charter users create` (README: Authentication)",
            file=sys.stderr,
        )
    _App().run()
    return 0
