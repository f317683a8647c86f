"""Checkpoints nobody asked for, on every store: the store makes one due at every multiple of
CHARTER_CHECKPOINT_EVERY_EVENTS appends to a log, and the in-process job worker signs it at
exactly that size, its root the tree hash of that many leaves."""

from __future__ import annotations

import time

from server.app import create_app
from tests.compliance.helpers import checkpoint_fields, mth
from tests.helpers import ADMIN, create_key, create_tenant, settings

EVERY = 4


def _sizes(store, log: str) -> set[int]:
    with store.read() as s:
        return {cp.size for cp in s.ledger.checkpoints(log)}


def test_a_checkpoint_is_signed_every_n_events_without_a_request_for_it(store):
    env = {"CHARTER_CHECKPOINT_EVERY_EVENTS": str(EVERY), "CHARTER_JOB_POLL_MS": "50", "CHARTER_INPROCESS_WORKER": "1"}
    app = create_app(store=store, settings=settings(**env), inprocess_worker=True)
    with app.test_client(headers=ADMIN) as c:
        tenant = create_tenant(c)
        for i in range(2 * EVERY):
            create_key(c, tenant["id"], name=f"k{i}")
        log = tenant["id"]
        with store.read() as s:
            size = s.ledger.head(log).size
        due = set(range(EVERY, size + 1, EVERY))
        assert len(due) >= 2
        deadline = time.monotonic() + 20
        while not due <= _sizes(store, log) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert due <= _sizes(store, log), f"signed {sorted(_sizes(store, log))}, due {sorted(due)}"
    with store.read() as s:
        leaves = s.ledger.leaves(log, 0, size)
        for n in sorted(due):
            origin, signed, root = checkpoint_fields(s.ledger.checkpoint(log, n).note)
            assert (origin, signed, root) == (f"charter/audit/{log}", n, mth(leaves[:n]))
