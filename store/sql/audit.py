"""The audit log over SQL: append-only, read newest first with keyset paging on id."""

from __future__ import annotations

import copy
import dataclasses

import sqlalchemy as sa

from store.models import AuditDraft, AuditEvent, AuditQuery, utcnow
from store.sql.base import Repo
from store.sql.tables import audit_events

DRAFT_FIELDS = tuple(f.name for f in dataclasses.fields(AuditDraft))
EVENT_FIELDS = tuple(c.name for c in audit_events.columns)
_APPEND = sa.insert(audit_events).returning(audit_events.c.id)


class SqlAudit(Repo):
    def append(self, draft: AuditDraft) -> AuditEvent:
        self._write()
        values = {name: getattr(draft, name) for name in DRAFT_FIELDS}
        values["created_at"] = utcnow()
        event_id = self._insert_owned(_APPEND, values).scalar_one()
        return AuditEvent(**copy.deepcopy(values), id=event_id)

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
        return [AuditEvent(**{n: r._mapping[n] for n in EVENT_FIELDS}) for r in self._run(statement)]
