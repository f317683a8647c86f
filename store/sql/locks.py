"""Exclusive request locks (Store.exclusive) that a dead worker cannot leave behind.

PostgreSQL: `pg_try_advisory_xact_lock(lock)` in the request's own transaction, so the lock goes
when that transaction ends, or its connection does (a killed worker's, say).

SQLite: one lock file beside the database; `lock` is a byte offset in it, taken with a POSIX
record lock (fcntl.lockf), which the kernel lets go when the process holding it exits, however it
exits. Record locks belong to a process, not to a thread, so the process also keeps the set of
locks its own threads hold. The file is opened once per process and never closed: closing any
descriptor of a file lets go of every record lock the process holds on it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store.errors import Busy

_TRY_PG = sa.text("SELECT pg_try_advisory_xact_lock(:lock)")


def try_pg(conn: Connection, lock: int) -> None:
    """Take `lock` for the rest of conn's transaction; Busy when another transaction holds it."""
    if not conn.execute(_TRY_PG, {"lock": lock}).scalar_one():
        raise Busy("locked")


class FileLocks:
    """Locks on one file, for every thread of this process."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None
        self._held: set[int] = set()
        self._pid = os.getpid()
        self._mutex = threading.Lock()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            # A forked child holds none of its parent's locks; it keeps the inherited descriptor.
            if self._pid != os.getpid():
                self._held, self._pid = set(), os.getpid()
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    @contextmanager
    def hold(self, lock: int) -> Iterator[None]:
        with self._mutex:
            fd = self._file()
            if lock in self._held:
                raise Busy("locked")
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, lock)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise Busy("locked") from None
                raise
            self._held.add(lock)
        try:
            yield
        finally:
            with self._mutex:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, lock)
                self._held.discard(lock)


_files: dict[str, FileLocks] = {}
_files_mutex = threading.Lock()


def file_locks(database: str) -> FileLocks:
    """The locks beside a SQLite database file, one FileLocks per file in a process."""
    path = os.path.abspath(database) + "-locks"
    with _files_mutex:
        found = _files.get(path)
        if found is None:
            found = _files[path] = FileLocks(path)
        return found
