"""The in-process store: dicts behind one lock, with an undo log so a failed write leaves nothing.

For tests, demos and single-worker runs (`DATABASE_URL=memory://`). Records are copied in and
out, so callers never share mutable state with the store.
"""
from __future__ import annotations

import bisect
import copy
import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.models import ApiKey, AuditDraft, AuditEvent, AuditQuery, Entitlement, Tenant, utcnow


class _State:
    def __init__(self):
        self.tenants: dict[UUID, Tenant] = {}
        self.slugs: dict[str, UUID] = {}
        self.entitlements: dict[tuple[UUID, str], Entitlement] = {}
        self.keys: dict[UUID, ApiKey] = {}
        self.audit_ids: list[int] = []
        self.audit: dict[int, AuditEvent] = {}
        self.next_audit_id = 1


class _Repo:
    def __init__(self, state: _State, undo: list | None):
        self.s = state
        self._undo = undo

    def _on_rollback(self, fn) -> None:
        if self._undo is None:
            raise RuntimeError("write attempted in a read session")
        self._undo.append(fn)


class _Tenants(_Repo):
    def add(self, tenant: Tenant) -> None:
        if tenant.id in self.s.tenants:
            raise Conflict("id")
        if tenant.slug in self.s.slugs:
            raise Conflict("slug")
        self._on_rollback(lambda: (self.s.tenants.pop(tenant.id, None), self.s.slugs.pop(tenant.slug, None)))
        self.s.tenants[tenant.id] = replace(tenant)
        self.s.slugs[tenant.slug] = tenant.id

    def get(self, tenant_id: UUID, *, for_update: bool = False) -> Tenant | None:
        found = self.s.tenants.get(tenant_id)
        return replace(found) if found else None

    def get_by_slug(self, slug: str) -> Tenant | None:
        tenant_id = self.s.slugs.get(slug)
        return self.get(tenant_id) if tenant_id else None

    def save(self, tenant: Tenant) -> None:
        old = self.s.tenants[tenant.id]
        self._on_rollback(lambda: self.s.tenants.__setitem__(old.id, old))
        self.s.tenants[tenant.id] = replace(tenant, slug=old.slug, created_at=old.created_at)

    def delete(self, tenant_id: UUID) -> bool:
        old = self.s.tenants.get(tenant_id)
        if old is None:
            return False
        ents = {k: v for k, v in self.s.entitlements.items() if k[0] == tenant_id}
        keys = {k: v for k, v in self.s.keys.items() if v.tenant_id == tenant_id}
        events = [e for e in self.s.audit.values() if e.tenant_id == tenant_id]

        def undo():
            self.s.tenants[tenant_id] = old
            self.s.slugs[old.slug] = tenant_id
            self.s.entitlements.update(ents)
            self.s.keys.update(keys)
            for event in events:
                event.tenant_id = tenant_id

        self._on_rollback(undo)
        del self.s.tenants[tenant_id]
        del self.s.slugs[old.slug]
        for k in ents:
            del self.s.entitlements[k]
        for k in keys:
            del self.s.keys[k]
        for event in events:
            event.tenant_id = None
        return True


class _Entitlements(_Repo):
    def list(self, tenant_id: UUID) -> list[Entitlement]:
        found = [copy.deepcopy(e) for (t, _), e in self.s.entitlements.items() if t == tenant_id]
        return sorted(found, key=lambda e: e.product)

    def get(self, tenant_id: UUID, product: str) -> Entitlement | None:
        found = self.s.entitlements.get((tenant_id, product))
        return copy.deepcopy(found) if found else None

    def add(self, entitlement: Entitlement) -> None:
        key = (entitlement.tenant_id, entitlement.product)
        if entitlement.tenant_id not in self.s.tenants:
            raise MissingReference("tenant")
        if key in self.s.entitlements:
            raise Conflict("entitlement")
        self._on_rollback(lambda: self.s.entitlements.pop(key, None))
        self.s.entitlements[key] = copy.deepcopy(entitlement)


class _ApiKeys(_Repo):
    def add(self, key: ApiKey) -> None:
        if key.tenant_id not in self.s.tenants:
            raise MissingReference("tenant")
        if key.id in self.s.keys:
            raise Conflict("id")
        self._on_rollback(lambda: self.s.keys.pop(key.id, None))
        self.s.keys[key.id] = copy.deepcopy(key)

    def get(self, key_id: UUID) -> ApiKey | None:
        found = self.s.keys.get(key_id)
        return copy.deepcopy(found) if found else None

    def list(self, tenant_id: UUID) -> list[ApiKey]:
        found = [copy.deepcopy(k) for k in self.s.keys.values() if k.tenant_id == tenant_id]
        return sorted(found, key=lambda k: (k.created_at, str(k.id)))

    def by_prefix(self, prefix: str) -> list[tuple[ApiKey, str]]:
        found = [
            (copy.deepcopy(k), self.s.tenants[k.tenant_id].status)
            for k in self.s.keys.values()
            if k.prefix == prefix
        ]
        return sorted(found, key=lambda pair: (pair[0].created_at, str(pair[0].id)))

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        key = self.s.keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return False
        self._on_rollback(lambda: setattr(key, "revoked_at", None))
        key.revoked_at = at
        return True

    def touch(self, key_id: UUID, at: datetime) -> None:
        key = self.s.keys.get(key_id)
        if key is not None:
            previous = key.last_used_at
            self._on_rollback(lambda: setattr(key, "last_used_at", previous))
            key.last_used_at = at


class _Audit(_Repo):
    def append(self, draft: AuditDraft) -> AuditEvent:
        if draft.tenant_id is not None and draft.tenant_id not in self.s.tenants:
            raise MissingReference("tenant")
        event_id = self.s.next_audit_id
        self.s.next_audit_id += 1
        event = AuditEvent(**copy.deepcopy(vars(draft)), id=event_id, created_at=utcnow())

        def undo():
            self.s.audit.pop(event_id, None)
            index = bisect.bisect_left(self.s.audit_ids, event_id)
            if index < len(self.s.audit_ids) and self.s.audit_ids[index] == event_id:
                del self.s.audit_ids[index]

        self._on_rollback(undo)
        self.s.audit[event_id] = event
        self.s.audit_ids.append(event_id)
        return copy.deepcopy(event)

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        ids = self.s.audit_ids
        end = len(ids) if query.cursor is None else bisect.bisect_left(ids, query.cursor)
        found: list[AuditEvent] = []
        for index in range(end - 1, -1, -1):
            if len(found) >= query.limit:
                break
            event = self.s.audit[ids[index]]
            if query.tenant_id is not None and event.tenant_id != query.tenant_id:
                continue
            if query.product is not None and event.product != query.product:
                continue
            if query.actor_id is not None and event.actor_id != query.actor_id:
                continue
            if query.action is not None and event.action != query.action:
                continue
            if query.since is not None and event.created_at < query.since:
                continue
            if query.until is not None and event.created_at >= query.until:
                continue
            found.append(copy.deepcopy(event))
        return found


class _Session:
    def __init__(self, state: _State, undo: list | None):
        self.tenants = _Tenants(state, undo)
        self.entitlements = _Entitlements(state, undo)
        self.api_keys = _ApiKeys(state, undo)
        self.audit = _Audit(state, undo)


class MemoryStore:
    never_blocks = True  # every call is a few dict operations under one lock: handlers run inline

    def __init__(self):
        self._state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def read(self):
        with self._lock:
            yield _Session(self._state, None)

    @contextmanager
    def write(self):
        with self._lock:
            undo: list = []
            try:
                yield _Session(self._state, undo)
            except BaseException:
                for fn in reversed(undo):
                    fn()
                raise

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
