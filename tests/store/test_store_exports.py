"""Audit export records: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from store.errors import Conflict, MissingReference
from store.models import AuditExport, utcnow


def _export(tenant_id, at, **fields) -> AuditExport:
    return AuditExport(
        uuid4(), tenant_id, at - timedelta(hours=1), at, ["audit", "identity"], "user:u", at, at, **fields
    )


def test_add_get_save_and_the_fields_save_leaves_alone(store, tenant_in):
    tenant = tenant_in()
    at = utcnow()
    export = _export(tenant.id, at)
    with store.write() as s:
        s.audit_exports.add(export)
    with store.read() as s:
        assert s.audit_exports.get(export.id) == export
    done = replace(
        export,
        status="ready",
        items_done=7,
        items_total=7,
        size=123,
        sha256="ab" * 32,
        key_id="charter+1234abcd",
        checkpoint_size=9,
        finished_at=at,
        updated_at=at + timedelta(seconds=1),
        includes=["webhooks"],  # fixed: not written
        requested_by="someone else",  # fixed too
    )
    with store.write() as s:
        s.audit_exports.save(done)
    with store.read() as s:
        assert s.audit_exports.get(export.id) == replace(done, includes=export.includes, requested_by="user:u")
    with pytest.raises(KeyError):
        with store.write() as s:
            s.audit_exports.save(_export(tenant.id, at))


def test_a_missing_tenant_and_a_taken_id_are_refused(store, tenant_in):
    at = utcnow()
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.audit_exports.add(_export(uuid4(), at))
    export = _export(tenant_in().id, at)
    with store.write() as s:
        s.audit_exports.add(export)
    with pytest.raises(Conflict):
        with store.write() as s:
            s.audit_exports.add(export)


def test_lists_are_newest_first_by_tenant_and_page_by_position(store, tenant_in):
    tenant, other = tenant_in(), tenant_in()
    at = utcnow()
    made = [_export(tenant.id, at + timedelta(seconds=n)) for n in range(3)]
    made.append(replace(_export(tenant.id, at + timedelta(seconds=2)), id=uuid4()))  # a tie on time
    with store.write() as s:
        for e in [*made, _export(other.id, at)]:
            s.audit_exports.add(e)
    newest = sorted(made, key=lambda e: (e.created_at, str(e.id)), reverse=True)
    with store.read() as s:
        assert [e.id for e in s.audit_exports.list(tenant.id)] == [e.id for e in newest]
        page = s.audit_exports.list(tenant.id, limit=2)
        rest = s.audit_exports.list(tenant.id, before=(page[-1].created_at, page[-1].id), limit=10)
        assert [e.id for e in page + rest] == [e.id for e in newest]
        assert len(s.audit_exports.list(other.id)) == 1


def test_unfinished_counts_queued_and_running_of_one_tenant(store, tenant_in):
    tenant, other = tenant_in(), tenant_in()
    at = utcnow()
    with store.write() as s:
        for status in ("queued", "running", "ready", "failed", "revoked"):
            s.audit_exports.add(_export(tenant.id, at, status=status))
        s.audit_exports.add(_export(other.id, at, status="running"))
    with store.read() as s:
        assert s.audit_exports.unfinished(tenant.id) == 2
        assert s.audit_exports.unfinished(other.id) == 1
