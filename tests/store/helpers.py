"""What the store tests need of a store that the store itself does not offer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from store.sql import SqlStore
from store.sql.engine import WRITE
from store.sql.tables import ALL


def empty_tables(store: SqlStore) -> None:
    """Empty every table (not alembic_version) and restart the audit ids."""
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            if store.dialect == "postgresql":
                names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in ALL)
                conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            else:
                # The append-only triggers (migration 0009) refuse DELETE: set them aside meanwhile.
                triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
                for name, _ in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
                for table in reversed(ALL):
                    conn.execute(table.delete())
                for _, sql in triggers:
                    conn.exec_driver_sql(sql)
                has_sequence = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
                ).first()
                if has_sequence:
                    conn.exec_driver_sql("DELETE FROM sqlite_sequence")


@contextmanager
def holding(store, lock: int) -> Iterator[None]:
    """Hold store.exclusive(lock) in another thread for the block (a request still running)."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.exclusive(lock):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        holder.join()
