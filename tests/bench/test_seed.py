"""bench/seed.py writes logs the ledger itself accepts: appended after events the API wrote,
verified by services.compliance.verify (every canonical leaf, the tree, the checkpoint), with
inclusion proofs, ids the store keeps handing out after it, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import uuid

import pytest

from bench import seed
from services.compliance import verify as verification
from services.compliance.ledger import inclusion
from store import merkle
from store.canonical import log_of
from store.models import AuditDraft, Tenant, utcnow
from tests.compliance.test_integrity import _signer

EVENTS = 2_500  # more than one hashing chunk would be slow here; the pool is covered by CHUNK below


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request, tmp_path):
    from tests.conftest import make_store

    s = make_store(request.param, request, tmp_path)
    yield request.param, s
    s.close()


def _seed(kind: str, store, events: int, tenant_id=None) -> seed.Seeded:
    url = str(store.engine.url.render_as_string(hide_password=False))
    if kind == "sqlite":
        return seed.seed_sqlite(url.removeprefix("sqlite:///"), events, tenant_id)
    return seed.seed_postgres(url, events, tenant_id)


@pytest.mark.parametrize("tenant", [False, True])
def test_a_seeded_log_verifies_and_proves(sql_store, tenant, monkeypatch):
    kind, store = sql_store
    monkeypatch.setattr(seed, "CHUNK", 1_000)  # three pool tasks
    tenant_id = None
    with store.write() as s:
        if tenant:
            now, tenant_id = utcnow(), uuid.uuid4()
            s.tenants.add(
                Tenant(tenant_id, f"seeded-{tenant_id.hex[:8]}", "Seeded", "active", "customer", "starter", now, now)
            )
        s.audit.append(AuditDraft(action="before.seed", tenant_id=tenant_id))
    seeded = _seed(kind, store, EVENTS, tenant_id)
    assert (seeded.log_id, seeded.size, seeded.high - seeded.low + 1) == (log_of(tenant_id), EVENTS + 1, EVENTS)
    with store.write() as s:  # the store appends after the seeded events, with a fresh id
        after = s.audit.append(AuditDraft(action="after.seed", tenant_id=tenant_id))
    assert after.seq == EVENTS + 1 and after.id > seeded.high
    signer = _signer(store)
    verdict = verification.verify(store, signer, seeded.log_id)
    assert verdict == {"ok": True, "size": EVENTS + 2, "checked": EVENTS + 2, "guidance": verification.OK}
    cp_root = merkle.root_of(merkle.split_compact(store_head(store, seeded.log_id)))
    for seq in (0, 1, EVENTS // 2, EVENTS + 1):
        proof = inclusion(store, signer, seeded.log_id, seq)
        with store.read() as s:
            leaf = s.ledger.node(seeded.log_id, 0, seq)
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        assert merkle.root_from_inclusion(seq, EVENTS + 2, leaf, hashes) == cp_root


def store_head(store, log_id: str) -> bytes:
    with store.read() as s:
        head = s.ledger.head(log_id)
    assert head is not None
    return head.compact
