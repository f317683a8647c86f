"""The audit log: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta, timezone
from uuid import UUID, uuid4

import pytest

from store.errors import MissingReference
from store.models import AuditEvent, AuditQuery, utcnow


def _append(store, drafts):
    with store.write() as s:
        return [s.audit.append(d) for d in drafts]


def test_append_returns_the_stored_event(store, tenant_in, make):
    tenant = tenant_in()
    project = uuid4()
    before = utcnow()
    draft = make.draft(
        "key.created",
        tenant_id=tenant.id,
        project_id=project,
        actor_id="u-1",
        actor_name="Dana",
        actor_type="user",
        target_id="k-1",
        target_type="api_key",
        target_name="ci",
        product="billing",
        metadata={"scopes": ["a", "b"], "n": 3, "deep": {"x": None}},
        source_ip="203.0.113.9",
        user_agent="curl/8",
    )
    (event,) = _append(store, [draft])
    after = utcnow()
    assert isinstance(event, AuditEvent)
    assert event.id >= 1
    assert before <= event.created_at <= after
    assert event.created_at.utcoffset() == timedelta(0)
    for name in vars(draft):
        assert getattr(event, name) == getattr(draft, name), name
    with store.read() as s:
        (stored,) = s.audit.query(AuditQuery())
    assert stored == event
    assert isinstance(stored.project_id, UUID) and stored.project_id == project


def test_append_without_tenant_and_metadata(store, make):
    (event,) = _append(store, [make.draft("system.started")])
    with store.read() as s:
        (stored,) = s.audit.query(AuditQuery())
    assert stored == event
    assert stored.tenant_id is None and stored.metadata is None and stored.project_id is None


def test_ids_increase(store, make):
    events = _append(store, [make.draft(f"a.{i}") for i in range(5)])
    events += _append(store, [make.draft("b")])
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 6


def test_append_for_unknown_tenant(store, make):
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.audit.append(make.draft(tenant_id=uuid4()))
    with store.read() as s:
        assert s.audit.query(AuditQuery()) == []


def test_query_newest_first_with_limit(store, make):
    events = _append(store, [make.draft(f"e.{i}") for i in range(7)])
    with store.read() as s:
        assert [e.id for e in s.audit.query(AuditQuery())] == [e.id for e in reversed(events)]
        assert [e.id for e in s.audit.query(AuditQuery(limit=3))] == [e.id for e in events[:-4:-1]]


@pytest.fixture
def mixed_log(store, tenant_in, make):
    t1, t2 = tenant_in(), tenant_in()
    drafts = []
    for i in range(24):
        drafts.append(
            make.draft(
                ("tenant.updated", "key.created", "key.revoked")[i % 3],
                tenant_id=(t1.id, t2.id, None)[i % 3 if i % 4 else 0],
                actor_id=("u-1", "u-2")[i % 2],
                product=("billing", "crm", None, "billing", "crm")[i % 5],
            )
        )
    return t1, t2, _append(store, drafts)


@pytest.mark.parametrize(
    "filters",
    [
        {"action": "key.created"},
        {"actor_id": "u-2"},
        {"product": "billing"},
        {"product": "crm", "actor_id": "u-1"},
        {"action": "tenant.updated", "product": "billing", "actor_id": "u-1"},
        {"action": "nothing.matches"},
    ],
)
def test_query_filters(store, mixed_log, filters):
    _, _, events = mixed_log
    expected = [e.id for e in reversed(events) if all(getattr(e, k) == v for k, v in filters.items())]
    with store.read() as s:
        found = s.audit.query(AuditQuery(limit=100, **filters))
    assert [e.id for e in found] == expected
    if filters != {"action": "nothing.matches"}:
        assert 0 < len(expected) < len(events)


def test_query_by_tenant(store, mixed_log):
    t1, t2, events = mixed_log
    with store.read() as s:
        for tenant in (t1, t2):
            found = s.audit.query(AuditQuery(limit=100, tenant_id=tenant.id))
            expected = [e for e in reversed(events) if e.tenant_id == tenant.id]
            assert found == expected and expected
        assert s.audit.query(AuditQuery(tenant_id=uuid4())) == []


def test_cursor_pages_through_120_events(store, tenant_in, make):
    tenant = tenant_in()
    noise = tenant_in()
    drafts = []
    for i in range(150):
        drafts.append(make.draft(f"e.{i}", tenant_id=noise.id if i % 5 == 4 else tenant.id))
    events = [e for e in _append(store, drafts) if e.tenant_id == tenant.id]
    assert len(events) == 120
    pages, cursor = [], None
    with store.read() as s:
        while True:
            page = s.audit.query(AuditQuery(limit=50, cursor=cursor, tenant_id=tenant.id))
            if not page:
                break
            pages.append(page)
            cursor = page[-1].id
    assert [len(p) for p in pages] == [50, 50, 20]
    seen = [e.id for p in pages for e in p]
    assert seen == [e.id for e in reversed(events)]


def test_cursor_keeps_ids_below_it(store, make):
    events = _append(store, [make.draft(f"e.{i}") for i in range(10)])
    cursor = events[6].id
    with store.read() as s:
        found = s.audit.query(AuditQuery(cursor=cursor))
    assert [e.id for e in found] == [e.id for e in reversed(events[:6])]


def test_since_is_inclusive_and_until_exclusive(store, make):
    events = _append(store, [make.draft(f"e.{i}") for i in range(3)])
    events += _append(store, [make.draft(f"e.{i}") for i in range(3, 6)])
    pivot = events[3]

    def expect(since=None, until=None):
        return [
            e.id
            for e in reversed(events)
            if (since is None or e.created_at >= since) and (until is None or e.created_at < until)
        ]

    with store.read() as s:
        since = [e.id for e in s.audit.query(AuditQuery(since=pivot.created_at))]
        until = [e.id for e in s.audit.query(AuditQuery(until=pivot.created_at))]
        window = [e.id for e in s.audit.query(AuditQuery(since=events[1].created_at, until=events[4].created_at))]
        later = s.audit.query(AuditQuery(since=events[-1].created_at + timedelta(microseconds=1)))
        # The same instant written in another offset selects the same events.
        shifted = pivot.created_at.astimezone(timezone(timedelta(hours=-5)))
        since_shifted = [e.id for e in s.audit.query(AuditQuery(since=shifted))]
    assert pivot.id in since and pivot.id not in until
    assert since == expect(since=pivot.created_at)
    assert until == expect(until=pivot.created_at)
    assert window == expect(since=events[1].created_at, until=events[4].created_at)
    assert events[1].id in window and events[4].id not in window
    assert later == []
    assert since_shifted == since


def test_every_nth_append_to_a_log_enqueues_its_checkpoint_in_the_same_transaction(store, tenant_in, make):
    from store.ledger import CHECKPOINT, checkpoint_due
    from store.models import LedgerHead

    tenant = tenant_in()
    store.checkpoint_every = 3
    _append(store, [make.draft("a", tenant_id=tenant.id) for _ in range(2)])
    with pytest.raises(ZeroDivisionError), store.write() as s:
        s.audit.append(make.draft("a", tenant_id=tenant.id))
        1 / 0  # noqa: B018  rolled back: the append and its job alike
    with store.read() as s:
        assert s.jobs.counts() == {}
    _append(store, [make.draft("a", tenant_id=tenant.id) for _ in range(5)])  # sizes 3 and 6
    log = str(tenant.id)
    for size in (3, 6):
        job = checkpoint_due(LedgerHead(log, size, b""), tenant.id, 3)
        with store.write() as s:
            kept = s.jobs.enqueue(job)
        assert kept.id != job.id and kept.kind == CHECKPOINT  # there already, enqueued by the append
        assert (kept.args, kept.tenant_id) == ({"log": log, "size": size}, tenant.id)
    with store.read() as s:
        assert s.jobs.counts() == {"pending": 2}
