"""The unit of work: events recorded on a write session commit as audit rows with the change, on
memory, SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import uuid4

import pytest

import store.unit_of_work as unit_of_work
from charter import domain
from charter.domain import Actor, Event
from store.errors import MissingReference, StoreError, Unavailable
from store.models import AuditQuery, audit_draft


class Boom(Exception):
    pass


def _actor(**fields) -> Actor:
    values = dict(kind=domain.USER, id="u-1", request_id="req-1", source_ip="203.0.113.9", user_agent="curl/8")
    values.update(fields)
    return Actor(**values)


def _event(action: str = "tenant.created", tenant_id=None, **fields) -> Event:
    values = dict(
        action=action, actor=_actor(), target_type="tenant", target_id=str(tenant_id or uuid4()), tenant_id=tenant_id
    )
    values.update(fields)
    return Event(**values)


def _log(store):
    with store.read() as s:
        return list(reversed(s.audit.query(AuditQuery(limit=100))))  # oldest first


def test_audit_draft_of_an_event():
    tenant_id, target = uuid4(), uuid4()
    actor = _actor(kind=domain.SUPPORT, session_id=uuid4(), reason="ticket 42")
    event = Event(
        "api_key.created",
        actor,
        "api_key",
        target,
        tenant_id,
        target_name="ci",
        product="billing",
        metadata={"scopes": ["a"], "request_id": "the event's own"},
    )
    draft = audit_draft(event)
    assert (draft.action, draft.tenant_id, draft.target_type, draft.target_id, draft.target_name, draft.product) == (
        "api_key.created",
        tenant_id,
        "api_key",
        str(target),
        "ci",
        "billing",
    )
    assert (draft.actor_id, draft.actor_type, draft.source_ip, draft.user_agent) == (
        "u-1",
        "support",
        "203.0.113.9",
        "curl/8",
    )
    assert draft.metadata == {
        "request_id": "the event's own",
        "scopes": ["a"],
        "support_session": {"id": str(actor.session_id), "reason": "ticket 42"},
    }


def test_recorded_events_are_written_with_the_change(store, make):
    tenant = make.tenant()
    event = _event(tenant_id=tenant.id, target_name=tenant.name, product="billing", metadata={"plan": "pro"})
    with store.write() as s:
        s.tenants.add(tenant)
        s.record(event)
        assert s.audit.query(AuditQuery()) == []  # written when the block ends, before the commit
    (row,) = _log(store)
    assert row == type(row)(
        **vars(audit_draft(event)), id=row.id, created_at=row.created_at, log_id=row.log_id, seq=row.seq
    )
    assert (row.actor_id, row.actor_type, row.target_id) == ("u-1", "user", str(tenant.id))
    assert row.metadata == {"request_id": "req-1", "plan": "pro"}
    with store.read() as s:
        assert s.tenants.get(tenant.id) == tenant


def test_nothing_is_written_when_the_block_raises(store, make):
    tenant = make.tenant()
    with pytest.raises(Boom):
        with store.write() as s:
            s.tenants.add(tenant)
            s.record(_event(tenant_id=tenant.id))
            raise Boom()
    assert _log(store) == []
    with store.read() as s:
        assert s.tenants.get(tenant.id) is None


def test_events_are_written_in_the_order_recorded(store, tenant_in):
    tenant = tenant_in()
    actions = ["key.created", "tenant.updated", "a.third", "key.revoked"]
    with store.write() as s:
        s.audit.append(audit_draft(_event("appended.directly")))
        for action in actions:
            s.record(_event(action, tenant.id))
    log = _log(store)
    assert [e.action for e in log] == ["appended.directly", *actions]
    assert [e.id for e in log] == sorted(e.id for e in log)


def test_a_missing_tenant_fails_the_commit_and_rolls_the_change_back(store, make, tenant_in):
    doomed = tenant_in()
    fresh = make.tenant()
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.tenants.add(fresh)
            s.record(_event("tenant.deleted", doomed.id))
            s.tenants.delete(doomed.id)  # the event's tenant is gone by the commit
    assert _log(store) == []
    with store.read() as s:
        assert s.tenants.get(fresh.id) is None
        assert s.tenants.get(doomed.id) == doomed
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.tenants.add(fresh)
            s.record(_event(tenant_id=uuid4()))
    with store.read() as s:
        assert s.tenants.get(fresh.id) is None


def test_a_read_session_refuses_record(store):
    with store.read() as s:
        with pytest.raises(RuntimeError):
            s.record(_event())
    with store.write() as s:
        pass
    assert _log(store) == []


def test_record_keeps_a_copy(store, tenant_in):
    tenant = tenant_in()
    event = _event(tenant_id=tenant.id, metadata={"n": 1})
    with store.write() as s:
        s.record(event)
        event.metadata["n"] = 2
        event.action = "changed"
    (row,) = _log(store)
    assert (row.action, row.metadata["n"]) == ("tenant.created", 1)


def test_writers_run_in_order_after_the_audit_and_can_fail_the_commit(store, tenant_in, monkeypatch):
    tenant = tenant_in()
    seen = []

    def outbox(session, events):
        seen.append(([e.action for e in events], len(session.audit.query(AuditQuery()))))

    monkeypatch.setattr(unit_of_work, "ON_COMMIT", (*unit_of_work.ON_COMMIT, outbox))
    with store.write() as s:
        s.record(_event("one", tenant.id))
        s.record(_event("two", tenant.id))
    assert seen == [(["one", "two"], 2)]  # the audit rows were written first, in this transaction
    with store.write() as s:
        s.tenants.get(tenant.id)
    assert len(seen) == 1  # nothing recorded: no writer runs

    def failing(session, events):
        raise Boom()

    monkeypatch.setattr(unit_of_work, "ON_COMMIT", (*unit_of_work.ON_COMMIT, failing))
    with pytest.raises(Boom):
        with store.write() as s:
            s.tenants.delete(tenant.id)
            s.record(_event("three"))
    assert [e.action for e in _log(store)] == ["one", "two"]
    with store.read() as s:
        assert s.tenants.get(tenant.id) == tenant


def test_store_unavailable_is_the_domain_kind():
    error = Unavailable("database unavailable: OperationalError")
    assert isinstance(error, StoreError) and isinstance(error, domain.Unavailable)
    assert (error.code, error.message) == ("store_unavailable", "database unavailable: OperationalError")
