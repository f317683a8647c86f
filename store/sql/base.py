"""What every SQL repository shares: one connection, the dialect, the read/write guard, errors."""
from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from store.errors import Conflict, MissingReference, Unavailable
from store.sql.tables import tenants

UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(f"database unavailable: {type(exc).__name__}: {exc}".splitlines()[0])


class Repo:
    def __init__(self, conn: Connection, writable: bool):
        self.conn = conn
        self.writable = writable
        self.pg = conn.dialect.name == "postgresql"

    def _write(self) -> None:
        if not self.writable:
            raise RuntimeError("write attempted in a read session")

    def _run(self, statement):
        """Execute; a connection lost mid-transaction surfaces as Unavailable."""
        try:
            return self.conn.execute(statement)
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise unavailable(exc) from exc
            raise

    def _insert(self, table: sa.Table):
        """INSERT … ON CONFLICT DO NOTHING: a unique clash returns no row instead of aborting the
        transaction (PostgreSQL) so the caller can raise Conflict and the session stays usable."""
        dialect = postgresql if self.pg else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def _add_owned(self, table: sa.Table, record, fields, key_column, clash: str) -> None:
        """Insert a row that belongs to a tenant; Conflict(clash) when its key is taken."""
        self._write()
        self._require_tenant(record.tenant_id)
        values = {name: getattr(record, name) for name in fields}
        if self._run(self._insert(table).values(values).returning(key_column)).first() is None:
            raise Conflict(clash)

    def _require_tenant(self, tenant_id: UUID) -> None:
        """MissingReference unless the tenant exists. On PostgreSQL the row is locked FOR KEY SHARE
        until commit, so a concurrent delete cannot pull it away before our insert (SQLite writers
        are serialised by BEGIN IMMEDIATE already)."""
        query = sa.select(tenants.c.id).where(tenants.c.id == tenant_id)
        if self.pg:
            query = query.with_for_update(read=True, key_share=True)
        if self._run(query).first() is None:
            raise MissingReference("tenant")
