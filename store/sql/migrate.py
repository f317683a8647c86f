"""Alembic, driven from code: no alembic.ini, the scripts live in store/migrations.

    upgrade(url)      bring the database at url to `head` (or to `revision`)
    current(url)      the revision the database is at, None when never migrated
    head()            the newest revision in store/migrations
    is_current(url)   whether the database is at head

The connection handed to Alembic comes from store.sql.engine, so SQLite gets its pragmas and a
PostgreSQL URL's `options=-csearch_path=…` applies: tables and alembic_version land in that schema.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from store.sql.base import UNREACHABLE, unavailable
from store.sql.engine import WRITE, make_engine, normalise_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# PostgreSQL: workers starting together take turns at migrating (SQLite: BEGIN IMMEDIATE does it).
_PG_LOCK_KEY = 0x63686172746572  # "charter"
# Alembic keeps the running migration context in module globals: one run per process at a time.
_PROCESS_LOCK = threading.Lock()


def config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # Kept out of the ini options: a URL's `%` would trip configparser interpolation.
        cfg.attributes["url"] = normalise_url(url)
    return cfg


def head() -> str:
    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return found


def upgrade(url: str, revision: str = "head") -> None:
    cfg = config(url)
    engine = make_engine(cfg.attributes["url"])
    try:
        with _PROCESS_LOCK, engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
    except UNREACHABLE as exc:
        raise unavailable(exc) from exc
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except UNREACHABLE as exc:
        raise unavailable(exc) from exc
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    return current(url) == head()
