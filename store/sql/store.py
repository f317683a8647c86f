"""SqlStore: the Store protocol over SQLAlchemy Core, on SQLite or PostgreSQL."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.sql.audit import SqlAudit
from store.sql.base import UNREACHABLE, unavailable
from store.sql.engine import WRITE, make_engine, normalise_url
from store.sql.keys import SqlApiKeys
from store.sql.ratelimits import SqlRateLimits
from store.sql.sessions import SqlAuthSessions, SqlRefreshTokens
from store.sql.signing import SqlSigningKeys
from store.sql.tables import ALL
from store.sql.tenants import SqlEntitlements, SqlTenants
from store.sql.users import SqlMemberships, SqlUsers


class SqlSession:
    """One connection, one transaction; every repository shares both. `rate_ticks` counts rate
    limit acquires across the sessions of one store (for housekeeping)."""

    def __init__(self, conn: Connection, writable: bool, rate_ticks=None):
        self.connection = conn
        self.tenants = SqlTenants(conn, writable)
        self.entitlements = SqlEntitlements(conn, writable)
        self.api_keys = SqlApiKeys(conn, writable)
        self.audit = SqlAudit(conn, writable)
        self.users = SqlUsers(conn, writable)
        self.memberships = SqlMemberships(conn, writable)
        self.auth_sessions = SqlAuthSessions(conn, writable)
        self.refresh_tokens = SqlRefreshTokens(conn, writable)
        self.signing_keys = SqlSigningKeys(conn, writable)
        self.rate_limits = SqlRateLimits(conn, writable, rate_ticks)


class SqlStore:
    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        # PostgreSQL reads go through a pool of autocommit connections (see make_engine); SQLite
        # reads keep their transaction, which under WAL gives them one snapshot for all statements.
        self._reader = self.engine if self.dialect == "sqlite" else make_engine(self.url, autocommit=True)
        # Rate limit acquires of this store, for housekeeping (next() on a count is thread-safe).
        self._rate_ticks = itertools.count(1)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        """A transaction that is rolled back at the end, whatever happened in it."""
        with self._transaction(write=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[SqlSession]:
        """Commits when the block ends normally, rolls back when anything escapes it."""
        with self._transaction(write=True) as session:
            yield session

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[SqlSession]:
        conn = self._begin(write)
        try:
            try:
                yield SqlSession(conn, writable=write, rate_ticks=self._rate_ticks)
            except BaseException:
                _rollback_quietly(conn)
                raise
            if not write:
                _rollback_quietly(conn)
                return
            try:
                conn.commit()
            except sa.exc.DBAPIError as exc:
                _rollback_quietly(conn)
                if exc.connection_invalidated or isinstance(exc, UNREACHABLE):
                    raise unavailable(exc) from exc
                raise
        finally:
            conn.close()

    def _begin(self, write: bool) -> Connection:
        try:
            conn = (self.engine if write else self._reader).connect()
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        try:
            if write:
                conn.execution_options(**{WRITE: True})
            conn.begin()
        except UNREACHABLE as exc:
            conn.close()
            raise unavailable(exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1")).scalar_one()
        except (*UNREACHABLE, sa.exc.DBAPIError) as exc:
            raise unavailable(exc) from exc

    def close(self) -> None:
        self.engine.dispose()
        self._reader.dispose()

    def truncate_all(self) -> None:
        """Empty every table (not alembic_version) and restart the audit ids. For tests."""
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in ALL)
                    conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                else:
                    for table in reversed(ALL):
                        conn.execute(table.delete())
                    has_sequence = conn.exec_driver_sql(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
                    ).first()
                    if has_sequence:
                        conn.exec_driver_sql("DELETE FROM sqlite_sequence")


def _rollback_quietly(conn: Connection) -> None:
    """Roll back without masking the error in flight; a dead connection is discarded on close."""
    try:
        conn.rollback()
    except sa.exc.DBAPIError:
        pass
