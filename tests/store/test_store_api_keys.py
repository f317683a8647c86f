"""API keys: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from store.errors import MissingReference
from store.models import utcnow


def test_key_round_trip(store, tenant_in, make):
    tenant = tenant_in()
    now = utcnow()
    key = make.key(
        tenant.id,
        prefix="ck_live",
        name="deploy",
        scopes=["tenants:read", "audit:read"],
        product="billing",
        created_by="user-7",
        last_used_at=now,
        revoked_at=now + timedelta(seconds=1),
    )
    with store.write() as s:
        s.api_keys.add(key)
    with store.read() as s:
        found = s.api_keys.get(key.id)
    assert found == key
    assert isinstance(found.id, UUID) and isinstance(found.tenant_id, UUID)
    assert found.scopes == ["tenants:read", "audit:read"]


def test_key_defaults(store, tenant_in, make):
    tenant = tenant_in()
    key = make.key(tenant.id)
    with store.write() as s:
        s.api_keys.add(key)
    with store.read() as s:
        found = s.api_keys.get(key.id)
    assert found.scopes == []
    assert (found.product, found.created_by, found.last_used_at, found.revoked_at) == (None, None, None, None)


def test_returned_key_is_a_copy(store, tenant_in, make):
    tenant = tenant_in()
    key = make.key(tenant.id, scopes=["a"])
    with store.write() as s:
        s.api_keys.add(key)
    with store.read() as s:
        s.api_keys.get(key.id).scopes.append("b")
        assert s.api_keys.get(key.id).scopes == ["a"]


def test_unknown_key_is_none(store, tenant_in):
    tenant_in()
    with store.read() as s:
        assert s.api_keys.get(uuid4()) is None
        assert s.api_keys.by_prefix("ck_none") == []


def test_key_for_unknown_tenant(store, make):
    key = make.key(uuid4())
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.api_keys.add(key)
    with store.read() as s:
        assert s.api_keys.get(key.id) is None


def test_list_orders_by_created_at_then_id_text(store, tenant_in, make):
    tenant = tenant_in()
    other = tenant_in()
    base = utcnow()
    same_time = [make.key(tenant.id, id=uuid4(), created_at=base) for _ in range(6)]
    earlier = make.key(tenant.id, created_at=base - timedelta(minutes=5))
    later = make.key(tenant.id, created_at=base + timedelta(minutes=5))
    with store.write() as s:
        for key in [later, *same_time, earlier]:
            s.api_keys.add(key)
        s.api_keys.add(make.key(other.id))
    with store.read() as s:
        listed = s.api_keys.list(tenant.id)
        assert s.api_keys.list(uuid4()) == []
    expected = [earlier.id, *sorted((k.id for k in same_time), key=str), later.id]
    assert [k.id for k in listed] == expected


def test_by_prefix_returns_each_key_with_its_tenant_status(store, tenant_in, make):
    active = tenant_in(status="active")
    trial = tenant_in(status="trial")
    base = utcnow()
    k1 = make.key(active.id, prefix="ck_same", created_at=base)
    k2 = make.key(trial.id, prefix="ck_same", created_at=base + timedelta(seconds=1))
    k3 = make.key(active.id, prefix="ck_other", created_at=base)
    with store.write() as s:
        for key in (k1, k2, k3):
            s.api_keys.add(key)
    with store.read() as s:
        found = s.api_keys.by_prefix("ck_same")
    assert found == [(k1, "active"), (k2, "trial")]

    with store.write() as s:
        s.tenants.save(replace(trial, status="frozen"))
    with store.read() as s:
        assert dict((k.id, status) for k, status in s.api_keys.by_prefix("ck_same")) == {
            k1.id: "active",
            k2.id: "frozen",
        }
        assert s.api_keys.by_prefix("ck_other") == [(k3, "active")]


def test_revoke_once(store, tenant_in, make):
    tenant = tenant_in()
    key = make.key(tenant.id)
    first, second = utcnow(), utcnow() + timedelta(hours=1)
    with store.write() as s:
        s.api_keys.add(key)
    with store.write() as s:
        assert s.api_keys.revoke(key.id, first) is True
    with store.write() as s:
        assert s.api_keys.revoke(key.id, second) is False
        assert s.api_keys.revoke(uuid4(), second) is False
    with store.read() as s:
        assert s.api_keys.get(key.id).revoked_at == first


def test_touch_records_last_use(store, tenant_in, make):
    tenant = tenant_in()
    key = make.key(tenant.id)
    used = utcnow() + timedelta(minutes=3)
    with store.write() as s:
        s.api_keys.add(key)
    with store.write() as s:
        s.api_keys.touch(key.id, used)
        s.api_keys.touch(uuid4(), used)  # unknown: nothing happens
    with store.read() as s:
        found = s.api_keys.get(key.id)
    assert found.last_used_at == used
    assert found == replace(key, last_used_at=used)


def test_concurrent_revokes_have_one_winner(store, tenant_in, make):
    tenant = tenant_in()
    key = make.key(tenant.id)
    with store.write() as s:
        s.api_keys.add(key)
    threads, results, errors = 16, [], []
    barrier = threading.Barrier(threads)

    def revoke():
        try:
            barrier.wait(timeout=30)
            with store.write() as s:
                results.append(s.api_keys.revoke(key.id, utcnow()))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=revoke) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False] * (threads - 1) + [True]
