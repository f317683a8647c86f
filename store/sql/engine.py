"""Database URLs and engines: psycopg 3 for PostgreSQL, WAL and explicit transactions for SQLite."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

# An execution option on a Connection: its transaction will write (SQLite: BEGIN IMMEDIATE).
WRITE = "charter_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 5
# A pooled connection idle longer than this is pinged before use; a busy one is not: the ping is a
# round trip, and under load it would be one on every request.
IDLE_PING_S = 10.0


def normalise_url(url: str | URL) -> URL:
    """postgres:// and postgresql:// become postgresql+psycopg://; the query string is kept."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    for scheme in ("postgres://", "postgresql://"):
        if text.startswith(scheme):
            text = "postgresql+psycopg://" + text[len(scheme) :]
            break
    try:
        parsed = make_url(text)
    except sa.exc.ArgumentError:
        raise ValueError("not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")
    return parsed


def make_engine(url: str | URL, *, autocommit: bool = False) -> Engine:
    """An engine with its own pool. `autocommit` (PostgreSQL only) is for read sessions: each
    statement is its own transaction, as under READ COMMITTED each statement of a transaction
    sees its own snapshot anyway, and no BEGIN or ROLLBACK round trip is spent."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    connect_args = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    engine = sa.create_engine(
        parsed,
        pool_size=10,
        max_overflow=10,
        connect_args=connect_args,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle for IDLE_PING_S or more. A dead
    one is replaced before the request sees it (the pool retries the checkout); a connection lost
    while in use surfaces as Unavailable, and the pool then renews all the older ones."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except Exception as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _sqlite_engine(url: URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        raise ValueError("SQLite needs a file (sqlite:///path): an in-memory database is per connection")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=10,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transactions away from pysqlite: it would BEGIN (deferred) lazily before the first
        # write, which turns concurrent writers into "database is locked" instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writers take the write lock up front (and wait for it up to busy_timeout); readers begin
        # deferred, so under WAL they never block and are never blocked.
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
