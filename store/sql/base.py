"""What every SQL repository shares: one connection, the dialect, the read/write guard, errors."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from store.errors import Conflict, MissingReference, Unavailable

UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(f"database unavailable: {type(exc).__name__}: {exc}".splitlines()[0])


Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class SqlContext(Protocol):
    """What a SQL repository is built from: its session's connection (and transaction), and the
    store's checkpoint_every (store.ledger.checkpoint_due)."""

    connection: Connection
    writable: bool
    checkpoint_every: int | None


class Repo:
    def __init__(self, session: SqlContext) -> None:
        self.conn = session.connection
        self.writable = session.writable
        self.pg = self.conn.dialect.name == "postgresql"

    def _write(self) -> None:
        if not self.writable:
            raise RuntimeError("write attempted in a read session")

    def _run(self, statement: Any, params: Params = None) -> sa.CursorResult[*tuple[Any, ...]]:
        """Execute; a connection lost mid-transaction surfaces as Unavailable. Statements on hot
        paths are built once with bind parameters and given `params` here: building a statement
        and its cache key costs more than the round trip it makes."""
        try:
            return self.conn.execute(statement, params)
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise unavailable(exc) from exc
            raise

    def _insert(self, table: sa.Table, key_column) -> sa.Insert:
        """INSERT … ON CONFLICT DO NOTHING RETURNING key_column, built once per dialect: a unique
        clash returns no row instead of aborting the transaction (PostgreSQL), so the caller can
        raise Conflict and the session stays usable. Run it with the row as `params`."""
        return _insert_ignoring_conflicts(self.pg, table, key_column)

    def _add_owned(self, table: sa.Table, record, fields, key_column, clash: str) -> None:
        """Insert a row that belongs to a tenant; Conflict(clash) when its key is taken,
        MissingReference when the tenant does not exist."""
        self._write()
        values = {name: getattr(record, name) for name in fields}
        if self._insert_owned(self._insert(table, key_column), values).first() is None:
            raise Conflict(clash)

    def _set_once(self, statement: sa.Update, row_id, at) -> bool:
        """Run a set_once() statement; True when this call set the column."""
        self._write()
        return self._run(statement, {"b_id": row_id, "b_at": at}).rowcount == 1

    def _insert_owned(self, statement, params: dict):
        """Run an INSERT whose tenant_id must name a tenant. The foreign key checks it in the same
        round trip (on PostgreSQL it also locks the tenant row FOR KEY SHARE until commit, so a
        concurrent delete cannot pull it away); its violation becomes MissingReference. The
        transaction is then unusable on PostgreSQL, and the caller's error ends it."""
        return self._insert_referencing(statement, params, {}, "tenant")

    def _insert_referencing(self, statement, params, names: dict[str, str], unknown: str):
        """Run an INSERT whose foreign keys must name existing rows. A violation raises
        MissingReference(what is missing): `names` maps constraint names to it (see referenced()),
        and `unknown` is used when the database does not say which constraint (SQLite)."""
        try:
            return self._run(statement, params)
        except sa.exc.IntegrityError as exc:
            if _foreign_key_violation(exc):
                constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
                raise MissingReference(names.get(constraint or "", unknown)) from None
            raise


def set_once(column: sa.Column) -> sa.Update:
    """UPDATE <table> SET <column> = :b_at WHERE id = :b_id AND <column> IS NULL, built once. Of
    concurrent callers the first to update the row wins; the others wait for its row lock
    (PostgreSQL) or its write transaction (SQLite), then find the column set: rowcount 0."""
    table = column.table
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"), column.is_(None))  # UPDATE reserves column names
        .values({column.name: sa.bindparam("b_at", type_=column.type)})
    )


def referenced(*tables: sa.Table) -> dict[str, str]:
    """Foreign key constraint name -> what it names ("user" for user_id), for these tables."""
    return {
        str(fk.name): fk.column_keys[0].removesuffix("_id") for table in tables for fk in table.foreign_key_constraints
    }


@functools.cache
def _insert_ignoring_conflicts(pg: bool, table: sa.Table, key_column) -> sa.Insert:
    dialect = postgresql if pg else sqlite
    return dialect.insert(table).on_conflict_do_nothing().returning(key_column)


def _foreign_key_violation(exc: sa.exc.IntegrityError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23503"
    return "FOREIGN KEY constraint failed" in str(exc.orig)
