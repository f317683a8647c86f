"""The audit log in memory: append-only, ids in order, read newest first. Each append is also a
leaf of its log (store.memory.ledger), and enqueues the job that signs its log's checkpoint when one
is due (store.ledger.checkpoint_due)."""

from __future__ import annotations

import bisect
import copy

from store.canonical import log_of
from store.errors import MissingReference
from store.ledger import checkpoint_due, next_leaf
from store.memory.base import MemoryContext, Repo
from store.memory.jobs import MemoryJobs
from store.memory.ledger import AppendOnly, MemoryLedger
from store.memory.tenants import TenantRows
from store.models import AuditDraft, AuditEvent, AuditQuery, utcnow


class AuditRows(AppendOnly):  # id -> AuditEvent; kept as written when the tenant goes
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []  # ascending
        self.next_id = 1  # never handed out twice, even after a rollback

    def _index(self, key: int, row: AuditEvent) -> None:
        bisect.insort(self.ids, key)

    def _unindex(self, key: int, row: AuditEvent) -> None:
        del self.ids[bisect.bisect_left(self.ids, key)]


class MemoryAudit(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._session = session
        self._rows = self._tables.of(AuditRows)
        self._tenants = self._tables.of(TenantRows)

    def append(self, draft: AuditDraft) -> AuditEvent:
        undo = self._undo()
        if draft.tenant_id is not None and draft.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        ledger = MemoryLedger(self._session)
        head = ledger.lock_head(log_of(draft.tenant_id))
        event_id = self._rows.next_id
        self._rows.next_id += 1
        event = AuditEvent(
            **copy.deepcopy(vars(draft)), id=event_id, created_at=utcnow(), log_id=head.log_id, seq=head.size
        )
        grown, made = next_leaf(head, vars(event))
        self._rows.insert(event_id, event, undo)
        ledger.grow(grown, made, event)
        due = checkpoint_due(grown, draft.tenant_id, self._session.checkpoint_every)
        if due is not None:
            MemoryJobs(self._session).enqueue(due)
        return copy.deepcopy(event)

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        ids, events = self._rows.ids, self._rows.by_key
        end = len(ids) if query.cursor is None else bisect.bisect_left(ids, query.cursor)
        found: list[AuditEvent] = []
        for index in range(end - 1, -1, -1):
            if len(found) >= query.limit:
                break
            event = events[ids[index]]
            if query.tenant_id is not None and event.tenant_id != query.tenant_id:
                continue
            if query.product is not None and event.product != query.product:
                continue
            if query.actor_id is not None and event.actor_id != query.actor_id:
                continue
            if query.action is not None and event.action != query.action:
                continue
            if query.since is not None and (event.created_at is None or event.created_at < query.since):
                continue
            if query.until is not None and (event.created_at is None or event.created_at >= query.until):
                continue
            found.append(copy.deepcopy(event))
        return found
