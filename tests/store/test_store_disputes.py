"""Dispute cases, evidence references and notes: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from store.errors import Conflict, MissingReference
from store.models import utcnow


class Boom(Exception):
    pass


def _ids(records) -> list:
    return [r.id for r in records]


def test_a_case_round_trips_with_every_field(store, tenant_in, make):
    tenant = tenant_in()
    now = utcnow()
    case = make.case(
        tenant.id,
        title="Card not present",
        reason="fraudulent",
        amount=9_000_000_000_000,  # more than 32 bits
        currency="EUR",
        due_by=now + timedelta(days=7),
        assignee_id=uuid4(),
        outcome=None,
        links=[{"kind": "license", "id": str(uuid4()), "linked_at": "2026-12-03T10:00:00Z"}],
    )
    bare = make.case(tenant.id)
    with store.write() as s:
        s.dispute_cases.add(case)
        s.dispute_cases.add(bare)
    with store.read() as s:
        assert s.dispute_cases.get(case.id) == case
        assert s.dispute_cases.get(bare.id) == bare
        assert s.dispute_cases.get(uuid4()) is None


def test_save_writes_the_mutable_fields_only(store, tenant_in, make):
    tenant = tenant_in()
    case = make.case(tenant.id)
    with store.write() as s:
        s.dispute_cases.add(case)
    later = utcnow() + timedelta(seconds=5)
    changed = replace(
        case,
        subject_type="invoice",  # fixed: not written
        subject_id="other",  # fixed
        status="won",
        stage="arbitration",
        outcome="won",
        rationale="proved",
        resolved_at=later,
        updated_at=later,
        links=[{"kind": "invoice", "id": str(uuid4()), "linked_at": "2026-12-03T10:00:00Z"}],
    )
    with store.write() as s:
        s.dispute_cases.save(changed)
    with store.read() as s:
        assert s.dispute_cases.get(case.id) == replace(changed, subject_type="payment", subject_id=case.subject_id)
    with pytest.raises(KeyError), store.write() as s:
        s.dispute_cases.save(make.case(tenant.id))


def test_add_refuses_a_missing_tenant_or_case_and_a_taken_id(store, tenant_in, make):
    tenant = tenant_in()
    case = make.case(tenant.id)
    with store.write() as s:
        s.dispute_cases.add(case)
    with pytest.raises(MissingReference, match="tenant"), store.write() as s:
        s.dispute_cases.add(make.case(uuid4()))
    with pytest.raises(Conflict, match="id"), store.write() as s:
        s.dispute_cases.add(replace(make.case(tenant.id), id=case.id))
    for repository, factory in (("dispute_evidence", make.evidence), ("dispute_notes", make.note)):
        with pytest.raises(MissingReference, match="case"), store.write() as s:
            getattr(s, repository).add(factory(tenant.id, uuid4()))
        with pytest.raises(MissingReference, match="tenant"), store.write() as s:
            getattr(s, repository).add(factory(uuid4(), uuid4()))
        record = factory(tenant.id, case.id)
        with store.write() as s:
            getattr(s, repository).add(record)
        with pytest.raises(Conflict, match="id"), store.write() as s:
            getattr(s, repository).add(replace(factory(tenant.id, case.id), id=record.id))


def test_evidence_and_notes_list_per_case_oldest_first(store, tenant_in, make):
    tenant = tenant_in()
    one, two = make.case(tenant.id), make.case(tenant.id)
    now = utcnow()
    evidence = [
        make.evidence(tenant.id, one.id, created_at=now + timedelta(seconds=i), label=f"e{i}", uri="s3://b/k")
        for i in (2, 0, 1)
    ]
    notes = [
        make.note(tenant.id, one.id, created_at=now + timedelta(seconds=i), author_kind="user", author_id="u")
        for i in (1, 0)
    ]
    with store.write() as s:
        s.dispute_cases.add(one)
        s.dispute_cases.add(two)
        for e in evidence:
            s.dispute_evidence.add(e)
        for n in notes:
            s.dispute_notes.add(n)
        s.dispute_notes.add(make.note(tenant.id, two.id))
    with store.read() as s:
        assert s.dispute_evidence.list(one.id) == sorted(evidence, key=lambda e: e.created_at)
        assert s.dispute_notes.list(one.id) == sorted(notes, key=lambda n: n.created_at)
        assert s.dispute_evidence.list(two.id) == []
        assert len(s.dispute_notes.list(two.id)) == 1


def test_list_filters_newest_first_with_limit_and_offset(store, tenant_in, make):
    tenant, other = tenant_in(), tenant_in()
    now = utcnow()
    cases = [
        make.case(tenant.id, created_at=now + timedelta(seconds=i), subject_id=f"p{i % 2}", status=status)
        for i, status in enumerate(("open", "open", "won", "open", "needs_response"))
    ]
    tied = [make.case(tenant.id, created_at=now + timedelta(seconds=9), status="accepted") for _ in range(3)]
    with store.write() as s:
        for c in (*cases, *tied):
            s.dispute_cases.add(c)
        s.dispute_cases.add(make.case(other.id, subject_id="p0"))
    newest = [*sorted(_ids(tied), key=str, reverse=True), *_ids(reversed(cases))]
    with store.read() as s:
        cases_of = s.dispute_cases.list
        assert _ids(cases_of(tenant.id)) == newest
        assert _ids(cases_of(tenant.id, limit=3, offset=2)) == newest[2:5]
        assert _ids(cases_of(tenant.id, offset=100)) == []
        assert _ids(cases_of(tenant.id, status="open")) == _ids(c for c in reversed(cases) if c.status == "open")
        assert _ids(cases_of(tenant.id, subject_type="payment", subject_id="p0")) == _ids(
            c for c in reversed(cases) if c.subject_id == "p0"
        )
        assert _ids(cases_of(tenant.id, subject_type="invoice")) == []
        assert _ids(cases_of(tenant.id, status="won", subject_id="p0")) == [cases[2].id]


def test_a_failed_write_keeps_nothing(store, tenant_in, make):
    tenant = tenant_in()
    case = make.case(tenant.id)
    with pytest.raises(Boom), store.write() as s:
        s.dispute_cases.add(case)
        s.dispute_evidence.add(make.evidence(tenant.id, case.id))
        s.dispute_notes.add(make.note(tenant.id, case.id))
        raise Boom()
    with store.read() as s:
        assert s.dispute_cases.get(case.id) is None
        assert s.dispute_evidence.list(case.id) == [] and s.dispute_notes.list(case.id) == []
