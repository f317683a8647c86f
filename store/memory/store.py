"""MemoryStore: the Store protocol over each aggregate's rows, behind one lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import cast

from store import interface
from store.errors import Busy
from store.memory.base import Tables, Undo
from store.memory.groups import Compliance, Disputes, Identity, Licensing, Platform, Registry, Webhooks
from store.unit_of_work import UnitOfWork, after_commit, before_commit


class MemorySession(Registry, Identity, Platform, Webhooks, Licensing, Compliance, Disputes, UnitOfWork):
    """A write session: the repositories over one store's tables, each built when first used, and
    the undo log."""

    def __init__(self, tables: Tables, undo: Undo | None, checkpoint_every: int | None = None) -> None:
        UnitOfWork.__init__(self, writable=undo is not None)
        self.tables = tables
        self.undo = undo
        self.checkpoint_every = checkpoint_every


class _ReadSession(UnitOfWork):
    """The one read session of a store. It lives as long as the store, so it has every repository
    from the start, as plain attributes of a class that has none of that name: the fastest kind
    to read (a class-level declaration, as a MemorySession has, costs each read a little)."""

    def __init__(self, tables: Tables) -> None:
        UnitOfWork.__init__(self, writable=False)
        self.tables = tables
        self.undo: Undo | None = None
        self.checkpoint_every: int | None = None
        MemorySession.build_all(self)


class _Reading:
    """read()'s context: the store's lock around the one read-only session. A class rather than a
    generator context manager, as it is entered on every authenticated request (and most
    handlers) and the generator machinery costs several times the lock."""

    __slots__ = ("_lock", "_session")

    def __init__(self, lock: threading.RLock, session: _ReadSession) -> None:
        self._lock = lock
        self._session = cast(interface.Session, session)  # it has every repository MemorySession declares

    def __enter__(self) -> interface.Session:
        self._lock.acquire()
        return self._session

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()


class MemoryStore:
    never_blocks = True  # every call is a few dict operations under one lock: handlers run inline

    def __init__(self) -> None:
        self.checkpoint_every: int | None = None  # see interface.Store
        self._tables = Tables()
        self._lock = threading.RLock()
        # read() is on every request's path: one read-only session, one context object, built once
        self._reading = _Reading(self._lock, _ReadSession(self._tables))
        # The undo log of the exclusive() block this context is in, if any: writes join it.
        self._joined: ContextVar[Undo | None] = ContextVar(f"charter_memory_store_{id(self)}", default=None)
        self._held: set[int] = set()  # exclusive() locks held
        self._held_mutex = threading.Lock()  # not self._lock, which a holder keeps for its block

    def read(self) -> _Reading:
        return self._reading

    @contextmanager
    def write(self) -> Iterator[MemorySession]:
        """Applies changes as they are made; when anything escapes the block (or its commit
        writers), runs the undo log backwards, so nothing of the write stays. Inside an
        exclusive() block its undo log joins the block's, once it has ended well."""
        with self._lock:
            undo: Undo = []
            session = MemorySession(self._tables, undo, self.checkpoint_every)
            try:
                yield session
                before_commit(session, session.events)
            except BaseException:
                _run_back(undo)
                raise
            joined = self._joined.get()
            if joined is not None:
                joined.extend(undo)
        after_commit(session.events)

    @contextmanager
    def exclusive(self, lock: int) -> Iterator[MemorySession]:
        """See interface.Store.exclusive: the store's lock for the whole block, and the undo log of
        every write inside it, run backwards when the block raises."""
        with self._held_mutex:
            if lock in self._held:
                raise Busy("locked")
            self._held.add(lock)
        try:
            with self.write() as session:
                token = self._joined.set(session.undo)
                try:
                    yield session
                finally:
                    self._joined.reset(token)
        finally:
            with self._held_mutex:
                self._held.discard(lock)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


def _run_back(undo: Undo) -> None:
    for fn in reversed(undo):
        fn()


def _conforms(session: MemorySession, store: MemoryStore) -> tuple[interface.Session, interface.Store]:
    """Never called: mypy checks here that the session and the store are the interface's."""
    return session, store
