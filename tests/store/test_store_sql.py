"""What only the SQL store has: URLs, migrations, schema parity, SQLite settings, availability."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store.errors import Unavailable
from store.models import AuditQuery
from store.sql import SqlStore, migrate
from store.sql.engine import make_engine, normalise_url
from store.sql.tables import metadata
from tests.store.helpers import empty_tables


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate.upgrade(url)
    return url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+psycopg://u:p@db:5432/app"),
        ("postgresql://u@db/app?sslmode=require", "postgresql+psycopg://u@db/app?sslmode=require"),
        ("postgresql+psycopg2://u@db/app", "postgresql+psycopg://u@db/app"),
        ("sqlite:////var/lib/charter.db", "sqlite:////var/lib/charter.db"),
    ],
)
def test_normalise_url(given, expected):
    assert normalise_url(given).render_as_string(hide_password=False) == expected


def test_normalise_url_keeps_the_search_path_option():
    url = normalise_url("postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dtenant_a")
    assert url.drivername == "postgresql+psycopg"
    assert url.query == {"options": "-csearch_path=tenant_a"}


def test_unsupported_scheme():
    with pytest.raises(ValueError):
        normalise_url("mysql://u@db/app")


def test_fresh_sqlite_migrates_to_head(sqlite_url):
    head = migrate.head()
    assert isinstance(head, str) and head
    assert migrate.current(sqlite_url) is None
    assert migrate.is_current(sqlite_url) is False
    migrate.upgrade(sqlite_url)
    assert migrate.current(sqlite_url) == head
    assert migrate.is_current(sqlite_url) is True
    migrate.upgrade(sqlite_url)  # a second run is a no-op
    assert migrate.current(sqlite_url) == head


def test_migrated_schema_matches_tables(migrated_url):
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            # The comparison does notice drift: a table without one of its indexes differs.
            drifted = sa.MetaData(naming_convention=metadata.naming_convention)
            for table in metadata.sorted_tables:
                table.to_metadata(drifted)
            audit = drifted.tables["audit_events"]
            audit.indexes.discard(next(i for i in audit.indexes if i.name == "ix_audit_events_action_id"))
            diff = compare_metadata(context, drifted)
            assert [d[0] for d in diff] == ["remove_index"]
    finally:
        engine.dispose()


def test_postgres_migrates_into_the_search_path_schema(pg_url):
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            tables = set(
                conn.execute(
                    sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
                ).scalars()
            )
            in_public = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                    "AND table_name = 'alembic_version'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert schema.startswith("charter_test_")
    assert {"alembic_version", "tenants", "entitlements", "api_keys", "audit_events"} <= tables
    assert migrate.current(pg_url) == migrate.head()
    assert in_public == 0


def test_migration_leaves_loggers_alone(sqlite_url):
    logger = logging.getLogger("charter.test.migrate")
    root_handlers = list(logging.getLogger().handlers)
    migrate.upgrade(sqlite_url)
    assert logger.disabled is False
    assert logging.getLogger().handlers == root_handlers


def test_sqlite_connection_settings(sqlite_url):
    migrate.upgrade(sqlite_url)
    store = SqlStore(sqlite_url)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 10000
    finally:
        store.close()


def test_sqlite_reader_is_not_blocked_by_an_open_writer(sqlite_url, make):
    migrate.upgrade(sqlite_url)
    store = SqlStore(sqlite_url)
    tenant = make.tenant()
    seen = []
    try:
        with store.write() as s:
            s.tenants.add(tenant)

            def read():
                with store.read() as r:
                    seen.append(r.tenants.get(tenant.id))

            reader = threading.Thread(target=read)
            reader.start()
            reader.join(timeout=5)
            assert not reader.is_alive()
        assert seen == [None]  # it ran while the write was open, and did not see it
        with store.read() as s:
            assert s.tenants.get(tenant.id) == tenant
    finally:
        store.close()


def test_postgres_pool_settings(pg_url):
    store = SqlStore(pg_url)
    try:
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert isinstance(store.engine.pool, sa.pool.QueuePool)
        assert store.engine.pool.size() == 10
    finally:
        store.close()


def test_postgres_reads_spend_no_transaction(pg_url):
    """Each statement of a read session is its own transaction (no BEGIN/ROLLBACK round trips);
    a write session is one transaction."""
    store = SqlStore(pg_url)
    try:
        with store.read() as s:
            first = s.connection.exec_driver_sql("SELECT now()").scalar_one()
            time.sleep(0.01)
            assert s.connection.exec_driver_sql("SELECT now()").scalar_one() > first
        with store.write() as s:
            first = s.connection.exec_driver_sql("SELECT now()").scalar_one()
            time.sleep(0.01)
            assert s.connection.exec_driver_sql("SELECT now()").scalar_one() == first
    finally:
        store.close()


def test_postgres_connection_killed_while_idle_is_replaced(pg_url, monkeypatch, make):
    import store.sql.engine as engine_module

    store = SqlStore(pg_url)
    try:
        with store.read() as s:
            pid = s.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with make_engine(pg_url).connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            admin.commit()
        monkeypatch.setattr(engine_module, "IDLE_PING_S", 0.0)  # it counts as idle now
        with store.read() as s:
            assert s.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pid
    finally:
        store.close()


def test_ping(migrated_url):
    store = SqlStore(migrated_url)
    try:
        assert store.ping() is None
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:1/test", "sqlite:////nonexistent-dir/charter/x.db"],
    ids=["postgres-closed-port", "sqlite-missing-dir"],
)
def test_unreachable_database_is_unavailable(url):
    store = SqlStore(url)
    try:
        with pytest.raises(Unavailable):
            store.ping()
        with pytest.raises(Unavailable):
            with store.read():
                pass
        with pytest.raises(Unavailable):
            with store.write():
                pass
    finally:
        store.close()


def test_empty_tables_empties_them_and_restarts_audit_ids(migrated_url, make):
    store = SqlStore(migrated_url)
    try:
        empty_tables(store)
        tenant = make.tenant()
        with store.write() as s:
            s.tenants.add(tenant)
            s.audit.append(make.draft(tenant_id=tenant.id))
            s.audit.append(make.draft(tenant_id=tenant.id))
        empty_tables(store)
        with store.write() as s:
            assert s.tenants.get(tenant.id) is None
            assert s.audit.query(AuditQuery()) == []
            assert s.audit.append(make.draft()).id == 1
        assert migrate.is_current(migrated_url)
    finally:
        empty_tables(store)
        store.close()


@pytest.fixture
def fresh_pg_url(pg_url):
    """An empty schema of its own in the test PostgreSQL, dropped afterwards."""
    import uuid
    from urllib.parse import quote

    import psycopg

    base = pg_url.split("?", 1)[0]
    schema = f"charter_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{base}?options={quote(f'-csearch_path={schema}')}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_concurrent_upgrades_from_several_processes(kind, request, sqlite_url):
    """Workers that start together each run upgrade(): they take turns, none fails."""
    url = sqlite_url if kind == "sqlite" else request.getfixturevalue("fresh_pg_url")
    assert migrate.current(url) is None
    root = Path(__file__).resolve().parents[2]
    # Imports first, then every process waits for the same instant, and each statement is slowed
    # down a little, so that without a lock the upgrades would overlap (and collide).
    code = (
        "import sys, time, sqlalchemy; from store.sql.migrate import upgrade; "
        "sqlalchemy.event.listen(sqlalchemy.engine.Engine, 'before_cursor_execute', "
        "lambda *a: time.sleep(0.02)); "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); upgrade(sys.argv[1])"
    )
    start_at = str(time.time() + 3)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, start_at], cwd=root, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    failures = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            failures.append("timed out")
            continue
        if proc.returncode != 0:
            failures.append(err.strip().splitlines()[-1:])
    assert failures == []
    assert migrate.is_current(url)
