"""Sessions: atomic writes, read-only reads, timezones, uuids, and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from store.errors import Conflict
from store.models import AuditQuery


class Boom(Exception):
    pass


def test_write_rolls_back_everything_on_error(store, tenant_in, make):
    kept = tenant_in(slug="kept")
    key = make.key(kept.id)
    with store.write() as s:
        s.api_keys.add(key)
    doomed = make.tenant(slug="doomed")
    with pytest.raises(Boom):
        with store.write() as s:
            s.tenants.add(doomed)
            s.audit.append(make.draft("tenant.created", tenant_id=doomed.id))
            s.entitlements.add(make.entitlement(kept.id, "billing"))
            assert s.api_keys.revoke(key.id, datetime.now(UTC)) is True
            s.tenants.delete(kept.id)
            raise Boom()
    with store.read() as s:
        assert s.tenants.get(doomed.id) is None
        assert s.tenants.get_by_slug("doomed") is None
        assert s.audit.query(AuditQuery()) == []
        assert s.tenants.get(kept.id) == kept
        assert s.entitlements.list(kept.id) == []
        assert s.api_keys.get(key.id) == key


def test_a_store_error_propagates_and_rolls_back(store, tenant_in, make):
    tenant_in(slug="taken")
    first = make.tenant(slug="fresh")
    with pytest.raises(Conflict):
        with store.write() as s:
            s.tenants.add(first)
            s.audit.append(make.draft(tenant_id=first.id))
            s.tenants.add(make.tenant(slug="taken"))
    with store.read() as s:
        assert s.tenants.get(first.id) is None
        assert s.audit.query(AuditQuery()) == []


def test_write_commits_and_sees_its_own_changes(store, make):
    tenant = make.tenant()
    with store.write() as s:
        s.tenants.add(tenant)
        assert s.tenants.get(tenant.id) == tenant
        event = s.audit.append(make.draft(tenant_id=tenant.id))
        assert s.audit.query(AuditQuery()) == [event]
    with store.read() as s:
        assert s.tenants.get(tenant.id) == tenant


def test_read_session_refuses_writes(store, tenant_in, make):
    tenant = tenant_in()
    with store.read() as s:
        with pytest.raises(RuntimeError):
            s.tenants.add(make.tenant())
        with pytest.raises(RuntimeError):
            s.audit.append(make.draft())
        with pytest.raises(RuntimeError):
            s.tenants.delete(tenant.id)
    with store.read() as s:
        assert s.audit.query(AuditQuery()) == []
        assert s.tenants.get(tenant.id) == tenant


def test_timestamps_come_back_aware_utc(store, make):
    plus_two = timezone(timedelta(hours=2))
    created = datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    tenant = make.tenant(created_at=created, updated_at=created, trial_ends_at=created + timedelta(days=1))
    utc_tenant = make.tenant(created_at=datetime(2025, 6, 1, 10, 30, 15, 123456, tzinfo=UTC))
    with store.write() as s:
        s.tenants.add(tenant)
        s.tenants.add(utc_tenant)
        event = s.audit.append(make.draft())
    with store.read() as s:
        found = s.tenants.get(tenant.id)
        found_utc = s.tenants.get(utc_tenant.id)
        (stored_event,) = s.audit.query(AuditQuery())
    # The same instant, microseconds included, and never naive.
    assert found.created_at == created
    assert found.trial_ends_at == created + timedelta(days=1)
    assert found.created_at.tzinfo is not None
    assert found_utc.created_at.utcoffset() == timedelta(0)
    assert found_utc.created_at == datetime(2025, 6, 1, 10, 30, 15, 123456, tzinfo=UTC)
    assert stored_event.created_at.utcoffset() == timedelta(0)
    assert stored_event.created_at == event.created_at


def test_uuids_round_trip(store, make):
    ids = [UUID(int=0), UUID(int=2**128 - 1), UUID("00000000-0000-4000-8000-00000000000a"), uuid4()]
    with store.write() as s:
        for i in ids:
            s.tenants.add(make.tenant(id=i))
    with store.read() as s:
        for i in ids:
            found = s.tenants.get(i)
            assert isinstance(found.id, UUID) and found.id == i


@pytest.mark.parametrize("read_first", [False, True], ids=["insert", "read-then-insert"])
def test_fifty_concurrent_writers_same_slug(store, make, read_first):
    """Exactly one wins, the rest get Conflict("slug"); none fails otherwise. Reading before the
    insert matters on SQLite: a deferred transaction holding a read snapshot cannot be upgraded to
    a writer once another writer committed ("database is locked"), so writers must BEGIN IMMEDIATE."""
    threads = 50
    barrier = threading.Barrier(threads)
    candidates = [make.tenant(slug="contested", name=f"writer {i}") for i in range(threads)]
    won, conflicts, errors = [], [], []
    lock = threading.Lock()

    def writer(tenant):
        try:
            barrier.wait(timeout=30)
            with store.write() as s:
                if read_first:
                    s.tenants.get_by_slug("contested")
                    s.audit.query(AuditQuery(limit=1))
                s.tenants.add(tenant)
            outcome = (won, tenant.id)
        except Conflict as exc:
            outcome = (conflicts, exc.what)
        except Exception as exc:  # noqa: BLE001 - e.g. "database is locked": asserted below
            outcome = (errors, repr(exc))
        with lock:
            outcome[0].append(outcome[1])

    workers = [threading.Thread(target=writer, args=(t,)) for t in candidates]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not any(w.is_alive() for w in workers)
    assert errors == []
    assert len(won) == 1
    assert conflicts == ["slug"] * (threads - 1)
    with store.read() as s:
        assert s.tenants.get_by_slug("contested").id == won[0]
