"""The audit log over SQL: append-only, read newest first with keyset paging on id. Each append
is also a leaf of its log (store.sql.ledger), in the same transaction, and enqueues there the job
that signs its log's checkpoint when one is due (store.ledger.checkpoint_due)."""

from __future__ import annotations

import copy
import dataclasses

import sqlalchemy as sa

from store.canonical import log_of
from store.errors import MissingReference
from store.ledger import checkpoint_due, next_leaf
from store.models import AuditDraft, AuditEvent, AuditQuery, utcnow
from store.sql.base import Repo, SqlContext
from store.sql.jobs import SqlJobs
from store.sql.ledger import SqlLedger, event_of
from store.sql.tables import audit_events, tenants

DRAFT_FIELDS = tuple(f.name for f in dataclasses.fields(AuditDraft))
_APPEND = sa.insert(audit_events).returning(audit_events.c.id)
_TENANT = sa.select(sa.literal(1)).where(tenants.c.id == sa.bindparam("t"))
# What the foreign key did before audit rows outlived their tenant: the tenant cannot be deleted
# under a transaction that appended to its log (PostgreSQL; SQLite serialises writes).
_TENANT_PG = _TENANT.with_for_update(key_share=True)


class SqlAudit(Repo):
    def __init__(self, session: SqlContext) -> None:
        super().__init__(session)
        self._session = session

    def append(self, draft: AuditDraft) -> AuditEvent:
        self._write()
        values = {name: getattr(draft, name) for name in DRAFT_FIELDS}
        if draft.tenant_id is not None:
            if self._run(_TENANT_PG if self.pg else _TENANT, {"t": draft.tenant_id}).first() is None:
                raise MissingReference("tenant")
        ledger = SqlLedger(self._session)
        head = ledger.lock_head(log_of(draft.tenant_id))
        values.update(created_at=utcnow(), log_id=head.log_id, seq=head.size)
        values["id"] = self._run(_APPEND, values).scalar_one()
        grown, made = next_leaf(head, values)
        ledger.grow(grown, made)
        due = checkpoint_due(grown, draft.tenant_id, self._session.checkpoint_every)
        if due is not None:
            SqlJobs(self._session).enqueue(due)
        return AuditEvent(**copy.deepcopy(values))

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        t = audit_events.c
        conditions = []
        if query.cursor is not None:
            conditions.append(t.id < query.cursor)
        for column, value in (
            (t.tenant_id, query.tenant_id),
            (t.product, query.product),
            (t.actor_id, query.actor_id),
            (t.action, query.action),
        ):
            if value is not None:
                conditions.append(column == value)
        if query.since is not None:
            conditions.append(t.created_at >= query.since)
        if query.until is not None:
            conditions.append(t.created_at < query.until)
        statement = sa.select(audit_events).where(*conditions).order_by(t.id.desc()).limit(max(query.limit, 0))
        return [event_of(r) for r in self._run(statement)]
