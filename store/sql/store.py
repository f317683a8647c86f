"""SqlStore: the Store protocol over SQLAlchemy Core, on SQLite or PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import interface
from store.sql.base import UNREACHABLE, unavailable
from store.sql.engine import WRITE, make_engine, normalise_url
from store.sql.groups import Compliance, Disputes, Identity, Licensing, Platform, Registry, Webhooks
from store.sql.locks import file_locks, try_pg
from store.unit_of_work import UnitOfWork, after_commit, before_commit


class SqlSession(Registry, Identity, Platform, Webhooks, Licensing, Compliance, Disputes, UnitOfWork):
    """One connection, one transaction; every repository shares both, and is built when first
    used. `rate_ticks` counts rate limit acquires across the sessions of one store (for
    housekeeping); `checkpoint_every` is the store's."""

    def __init__(
        self,
        conn: Connection,
        writable: bool,
        rate_ticks: Iterator[int] | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        UnitOfWork.__init__(self, writable)
        self.connection = conn
        self.rate_ticks = rate_ticks if rate_ticks is not None else itertools.count(1)
        self.checkpoint_every = checkpoint_every


class SqlStore:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.checkpoint_every: int | None = None  # see interface.Store
        self.engine = make_engine(self.url)
        # PostgreSQL reads go through a pool of autocommit connections (see make_engine); SQLite
        # reads keep their transaction, which under WAL gives them one snapshot for all statements.
        self._reader = self.engine if self.dialect == "sqlite" else make_engine(self.url, autocommit=True)
        # Rate limit acquires of this store, for housekeeping (next() on a count is thread-safe).
        self._rate_ticks = itertools.count(1)
        # The connection of the exclusive() block this context is in, if any: sessions join it.
        self._joined: ContextVar[Connection | None] = ContextVar(f"charter_sql_store_{id(self)}", default=None)
        self._file_locks = file_locks(self.url.database or "") if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        """A transaction that is rolled back at the end, whatever happened in it (on PostgreSQL
        an autocommit connection: each statement is its own)."""
        with self._transaction(write=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[SqlSession]:
        """When the block ends normally, writes what its recorded events call for
        (store.unit_of_work) and commits; rolls back when anything escapes the block or those
        writes."""
        with self._transaction(write=True) as session:
            yield session

    @contextmanager
    def exclusive(self, lock: int) -> Iterator[SqlSession]:
        """See interface.Store.exclusive. SQLite takes the lock file's lock before BEGIN
        IMMEDIATE (which waits for other writers); PostgreSQL takes an advisory lock as the
        transaction's first statement."""
        held = self._file_locks.hold(lock) if self._file_locks is not None else nullcontext()
        with held, self._transaction(write=True) as session:
            if self._file_locks is None:
                try_pg(session.connection, lock)
            token = self._joined.set(session.connection)
            try:
                yield session
            finally:
                self._joined.reset(token)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[SqlSession]:
        joined = self._joined.get()
        if joined is not None:
            with self._savepoint(joined, write) as session:
                yield session
            return
        conn = self._begin(write)
        try:
            session = self._session(conn, write)
            try:
                yield session
                if write:
                    before_commit(session, session.events)
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
            after_commit(session.events)
        finally:
            conn.close()

    @contextmanager
    def _savepoint(self, conn: Connection, write: bool) -> Iterator[SqlSession]:
        """A session inside an exclusive() block: a read shares its transaction, a write is a
        savepoint of it, released with its commit writers' rows, rolled back when it raises."""
        session = self._session(conn, write)
        if not write:
            yield session
            return
        savepoint = conn.begin_nested()
        try:
            yield session
            before_commit(session, session.events)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    def _session(self, conn: Connection, write: bool) -> SqlSession:
        return SqlSession(conn, writable=write, rate_ticks=self._rate_ticks, checkpoint_every=self.checkpoint_every)

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


def _rollback_quietly(conn: Connection) -> None:
    """Roll back without masking the error in flight; a dead connection is discarded on close."""
    try:
        conn.rollback()
    except sa.exc.DBAPIError:
        pass


def _conforms(session: SqlSession, store: SqlStore) -> tuple[interface.Session, interface.Store]:
    """Never called: mypy checks here that the session and the store are the interface's."""
    return session, store
