"""The SQL store: SQLAlchemy Core over SQLite (file, WAL) or PostgreSQL (psycopg 3).

Schema in store.sql.tables, migrations in store/migrations run by store.sql.migrate.
"""

from __future__ import annotations

from store.sql.store import SqlSession, SqlStore

__all__ = ["SqlSession", "SqlStore"]
