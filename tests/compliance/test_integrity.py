"""The log's integrity where the store keeps it: tampering found and named, append-only refused by
the database, concurrent appends (threads, processes) that never gap or fork a log, tenants that
never wait on each other, and the migration's backfill of existing audit rows."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.app import create_app
from services.compliance import verify as verification
from services.compliance.signer import Signer
from store import merkle
from store.canonical import canonical
from store.models import AuditDraft
from store.sql.engine import WRITE
from tests.compliance.helpers import mth
from tests.helpers import ADMIN, SECRET_KEY, create_tenant, settings

SQL = ["sqlite", "postgres"]


def _signer(store) -> Signer:
    from charter.sealing import Sealer, parse_key

    return Signer(Sealer(parse_key(SECRET_KEY)), "charter")


def _append(store, tenant_id, n: int, action: str = "test.appended") -> None:
    for _ in range(n):
        with store.write() as s:
            s.audit.append(AuditDraft(action=action, tenant_id=tenant_id, metadata={"big": 2**70, "f": 0.1}))


def _tenant(store):
    from tests.store.conftest import make_tenant

    tenant = make_tenant()
    with store.write() as s:
        s.tenants.add(tenant)
    return tenant


def _raw(store, statement: str, params: dict | None = None, *, bypass: str | None = None) -> None:
    """Run a statement on the database itself, as someone with its password could; `bypass`
    names the table whose append-only triggers are set aside for it (and put back after)."""
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            triggers = []
            if bypass and store.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {bypass} DISABLE TRIGGER USER")
            elif bypass:
                triggers = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (bypass,)
                ).all()
                for name, _ in triggers:
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            conn.execute(sa.text(statement), params or {})
            if bypass and store.dialect == "postgresql":
                conn.exec_driver_sql(f"ALTER TABLE {bypass} ENABLE TRIGGER USER")
            for _, sql in triggers:
                conn.exec_driver_sql(sql)


def test_tampering_with_a_row_is_found_and_named(store):
    """An event row changed behind the server's back: verify names its seq, with the leaf the log
    committed to and the hash of what is stored now."""
    from tests.contract import CheckedClient  # noqa: F401  (the app's answers are checked too)

    app = create_app(store=store, settings=settings())
    with app.test_client(headers=ADMIN) as client:
        tenant = create_tenant(client)
        for i in range(4):
            client.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": f"k{i}"})
        headers = {"x-tenant-id": tenant["id"]}
        assert client.get("/v1/compliance/ledger/verify", headers=headers).json()["ok"] is True
        with store.read() as s:
            event = s.ledger.event(tenant["id"], 2)
            leaf = s.ledger.node(tenant["id"], 0, 2)
        if store.dialect if hasattr(store, "dialect") else False:
            _raw(
                store,
                "UPDATE audit_events SET action = 'forged' WHERE id = :id",
                {"id": event.id},
                bypass="audit_events",
            )
        else:
            from store.memory.audit import AuditRows

            store._tables.of(AuditRows).by_key[event.id].action = "forged"
        result = client.get("/v1/compliance/ledger/verify", headers=headers).json()
    assert result["ok"] is False and result["first_bad_seq"] == 2, result
    import base64

    assert base64.b64decode(result["expected"]) == leaf
    assert base64.b64decode(result["found"]) != leaf and "seq 2" in result["guidance"]


def test_rewritten_leaves_are_caught_by_the_signed_root(store):
    """Event and leaf both rewritten consistently: the signed checkpoint's root no longer matches."""
    if not hasattr(store, "dialect"):
        pytest.skip("the memory store has no database to write behind its back")
    signer = _signer(store)
    tenant = _tenant(store)
    _append(store, tenant.id, 5)
    log = str(tenant.id)
    from services.compliance.ledger import checkpoint

    checkpoint(store, signer, log)
    with store.read() as s:
        event = s.ledger.event(log, 3)
    forged = dict(vars(event), action="forged")
    new_leaf = merkle.leaf_hash(canonical(forged))
    _raw(store, "UPDATE audit_events SET action = 'forged' WHERE id = :id", {"id": event.id}, bypass="audit_events")
    _raw(
        store,
        "UPDATE ledger_nodes SET hash = :h WHERE log_id = :l AND level = 0 AND idx = 3",
        {"h": new_leaf, "l": log},
        bypass="ledger_nodes",
    )
    result = verification.verify(store, signer, log)
    assert (
        result["ok"] is False and result["first_bad_seq"] == 0 and "signed checkpoint of size 5" in result["guidance"]
    )


@pytest.mark.parametrize("store", SQL, indirect=True)
def test_the_database_refuses_to_change_the_log(store):
    tenant = _tenant(store)
    _append(store, tenant.id, 3)
    log = str(tenant.id)
    for statement in (
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "UPDATE ledger_nodes SET hash = hash",
        "DELETE FROM ledger_nodes",
        f"UPDATE ledger_heads SET size = 1 WHERE log_id = '{log}'",
        "DELETE FROM ledger_heads",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="charter: "):
            _raw(store, statement)
    with store.read() as s:
        assert s.ledger.head(log).size == 3 and [e.seq for e in s.ledger.events(log, 0, 9)] == [0, 1, 2]


def test_the_memory_store_refuses_too():
    from store.memory import MemoryStore
    from store.memory.audit import AuditRows
    from store.memory.ledger import NodeRows

    store = MemoryStore()
    _append(store, None, 2)
    for kind in (AuditRows, NodeRows):
        rows = store._tables.of(kind)
        key = next(iter(rows.by_key))
        with pytest.raises(PermissionError):
            rows.remove(key, [])
        with pytest.raises(PermissionError):
            rows.replace(key, rows.by_key[key], [])


def _check_log(store, log: str, size: int) -> None:
    with store.read() as s:
        events = s.ledger.events(log, 0, size + 10)
        leaves = s.ledger.leaves(log, 0, size + 10)
        head = s.ledger.head(log)
    assert [e.seq for e in events] == list(range(size))  # no gap, no seq twice
    assert head.size == size
    assert leaves == [merkle.leaf_hash(canonical(vars(e))) for e in events]
    assert merkle.root_of(merkle.split_compact(head.compact)) == mth(leaves)  # no fork: one tree


@pytest.mark.parametrize("store", SQL, indirect=True)
def test_concurrent_appends_from_threads_never_gap_or_fork(store):
    tenant = _tenant(store)
    threads = [threading.Thread(target=_append, args=(store, tenant.id, 15)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_log(store, str(tenant.id), 6 * 15)


def _worker(url: str, tenant_id: str, n: int) -> None:
    from store.sql import SqlStore

    store = SqlStore(url)
    try:
        _append(store, uuid.UUID(tenant_id), n, action="test.process")
    finally:
        store.close()


@pytest.mark.parametrize("store", SQL, indirect=True)
def test_concurrent_appends_from_two_processes_never_gap_or_fork(store):
    tenant = _tenant(store)
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(url, str(tenant.id), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    _check_log(store, str(tenant.id), 80)
    assert verification.verify(store, _signer(store), str(tenant.id))["ok"] is True


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_tenants_never_wait_on_each_other(store):
    """A transaction holding tenant A's head (appended, not committed) does not hold up B's append."""
    a, b = _tenant(store), _tenant(store)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.write() as s:
            s.audit.append(AuditDraft(action="test.held", tenant_id=a.id))
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        _append(store, b.id, 1)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        holder.join()
    _check_log(store, str(a.id), 1)
    _check_log(store, str(b.id), 1)


def test_the_migration_appends_existing_rows_to_their_logs(tmp_path):
    from store.sql import SqlStore
    from store.sql.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    tenant_id = uuid.uuid4()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC).replace(tzinfo=None)
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, slug, name, status, kind, plan, created_at, updated_at) "
                "VALUES (:id, 'old', 'Old', 'active', 'customer', 'pro', :now, :now)"
            ),
            {"id": tenant_id.hex, "now": now},
        )
        for i in range(7):
            conn.execute(
                sa.text("INSERT INTO audit_events (created_at, action, tenant_id, metadata) VALUES (:now, :a, :t, :m)"),
                {"now": now, "a": f"old.{i}", "t": tenant_id.hex if i % 3 else None, "m": json.dumps({"i": i})},
            )
    engine.dispose()
    upgrade(url)
    store = SqlStore(url)
    try:
        tenant_log = [i for i in range(7) if i % 3]
        with store.read() as s:
            events = s.ledger.events(str(tenant_id), 0, 10)
            platform = s.ledger.events("platform", 0, 10)
        assert [e.action for e in events] == [f"old.{i}" for i in tenant_log]
        assert [e.action for e in platform] == [f"old.{i}" for i in range(7) if not i % 3]
        _check_log(store, str(tenant_id), len(tenant_log))
        _check_log(store, "platform", 3)
        _append(store, tenant_id, 1)  # appends go on where the backfill stopped
        _check_log(store, str(tenant_id), len(tenant_log) + 1)
    finally:
        store.close()
