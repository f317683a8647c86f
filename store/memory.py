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
from store.models import (
    ApiKey,
    AuditDraft,
    AuditEvent,
    AuditQuery,
    AuthSession,
    Entitlement,
    Membership,
    RateBucket,
    RefreshToken,
    SigningKey,
    Tenant,
    User,
    bucket_keys,
    gcra_fit,
    utcnow,
)

# Every this many acquires, rate buckets whose tat has passed (the same as no bucket) are dropped.
RATE_HOUSEKEEPING_EVERY = 512


class _State:
    def __init__(self):
        self.tenants: dict[UUID, Tenant] = {}
        self.slugs: dict[str, UUID] = {}
        self.entitlements: dict[tuple[UUID, str], Entitlement] = {}
        self.keys: dict[UUID, ApiKey] = {}
        self.audit_ids: list[int] = []
        self.audit: dict[int, AuditEvent] = {}
        self.next_audit_id = 1
        self.users: dict[UUID, User] = {}
        self.emails: dict[str, UUID] = {}
        self.memberships: dict[tuple[UUID, UUID], Membership] = {}  # (user_id, tenant_id)
        self.sessions: dict[UUID, AuthSession] = {}
        self.refresh: dict[UUID, RefreshToken] = {}
        self.refresh_hashes: dict[str, UUID] = {}
        self.signing: dict[str, SigningKey] = {}
        self.rate: dict[str, float] = {}  # bucket key -> theoretical arrival time
        self.rate_ticks = 0  # acquires so far, for housekeeping


class _Repo:
    def __init__(self, state: _State, undo: list | None):
        self.s = state
        self._undo = undo

    def _write(self) -> None:
        if self._undo is None:
            raise RuntimeError("write attempted in a read session")

    def _stamp_once(self, record, field: str, at) -> bool:
        """Set record.<field> to `at` unless it is set already (undone on rollback); True when
        this call set it. Under the store's lock, so of concurrent callers exactly one does."""
        if record is None or getattr(record, field) is not None:
            return False
        self._on_rollback(lambda: setattr(record, field, None))
        setattr(record, field, at)
        return True

    def _on_rollback(self, fn) -> None:
        self._write()
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
        members = {k: v for k, v in self.s.memberships.items() if k[1] == tenant_id}
        sessions = {k: v for k, v in self.s.sessions.items() if v.tenant_id == tenant_id}
        tokens = {k: v for k, v in self.s.refresh.items() if v.session_id in sessions}

        def undo():
            self.s.tenants[tenant_id] = old
            self.s.slugs[old.slug] = tenant_id
            self.s.entitlements.update(ents)
            self.s.keys.update(keys)
            for event in events:
                event.tenant_id = tenant_id
            self.s.memberships.update(members)
            self.s.sessions.update(sessions)
            self.s.refresh.update(tokens)
            self.s.refresh_hashes.update((t.token_hash, t.id) for t in tokens.values())

        self._on_rollback(undo)
        del self.s.tenants[tenant_id]
        del self.s.slugs[old.slug]
        for k in ents:
            del self.s.entitlements[k]
        for k in keys:
            del self.s.keys[k]
        for event in events:
            event.tenant_id = None
        for k in members:
            del self.s.memberships[k]
        for k in sessions:
            del self.s.sessions[k]
        for k, token in tokens.items():
            del self.s.refresh[k]
            del self.s.refresh_hashes[token.token_hash]
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
            (copy.deepcopy(k), self.s.tenants[k.tenant_id].status) for k in self.s.keys.values() if k.prefix == prefix
        ]
        return sorted(found, key=lambda pair: (pair[0].created_at, str(pair[0].id)))

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        self._write()
        return self._stamp_once(self.s.keys.get(key_id), "revoked_at", at)

    def touch(self, key_id: UUID, at: datetime) -> None:
        key = self.s.keys.get(key_id)
        if key is not None:
            previous = key.last_used_at
            self._on_rollback(lambda: setattr(key, "last_used_at", previous))
            key.last_used_at = at

    def standing(self, key_id: UUID) -> tuple[datetime | None, str] | None:
        key = self.s.keys.get(key_id)
        return (key.revoked_at, self.s.tenants[key.tenant_id].status) if key else None


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


class _Users(_Repo):
    def add(self, user: User) -> None:
        self._write()
        if user.email in self.s.emails:
            raise Conflict("email")
        if user.id in self.s.users:
            raise Conflict("id")
        self._on_rollback(lambda: (self.s.users.pop(user.id, None), self.s.emails.pop(user.email, None)))
        self.s.users[user.id] = copy.deepcopy(user)
        self.s.emails[user.email] = user.id

    def get(self, user_id: UUID) -> User | None:
        found = self.s.users.get(user_id)
        return copy.deepcopy(found) if found else None

    def by_email(self, email: str) -> User | None:
        user_id = self.s.emails.get(email)
        return self.get(user_id) if user_id else None

    def save(self, user: User) -> None:
        self._write()
        old = self.s.users[user.id]
        self._on_rollback(lambda: self.s.users.__setitem__(old.id, old))
        self.s.users[user.id] = replace(
            old,
            password_hash=user.password_hash,
            platform_roles=list(user.platform_roles),
            disabled_at=user.disabled_at,
        )


class _Memberships(_Repo):
    def put(self, membership: Membership) -> None:
        """Insert, or replace the roles of the existing membership (its created_at stays), as the
        SQL store's INSERT … ON CONFLICT DO UPDATE SET roles does."""
        self._write()
        if membership.user_id not in self.s.users:
            raise MissingReference("user")
        if membership.tenant_id not in self.s.tenants:
            raise MissingReference("tenant")
        key = (membership.user_id, membership.tenant_id)
        old = self.s.memberships.get(key)
        if old is None:
            self._on_rollback(lambda: self.s.memberships.pop(key, None))
            self.s.memberships[key] = copy.deepcopy(membership)
        else:
            self._on_rollback(lambda: self.s.memberships.__setitem__(key, old))
            self.s.memberships[key] = replace(old, roles=list(membership.roles))

    def get(self, user_id: UUID, tenant_id: UUID) -> Membership | None:
        found = self.s.memberships.get((user_id, tenant_id))
        return copy.deepcopy(found) if found else None

    def for_user(self, user_id: UUID) -> list[Membership]:
        found = [copy.deepcopy(m) for (u, _), m in self.s.memberships.items() if u == user_id]
        return sorted(found, key=lambda m: str(m.tenant_id))


class _AuthSessions(_Repo):
    def add(self, session: AuthSession) -> None:
        self._write()
        if session.id in self.s.sessions:
            raise Conflict("id")
        if session.user_id not in self.s.users:
            raise MissingReference("user")
        if session.tenant_id is not None and session.tenant_id not in self.s.tenants:
            raise MissingReference("tenant")
        self._on_rollback(lambda: self.s.sessions.pop(session.id, None))
        self.s.sessions[session.id] = copy.deepcopy(session)

    def get(self, session_id: UUID) -> AuthSession | None:
        found = self.s.sessions.get(session_id)
        return copy.deepcopy(found) if found else None

    def revoke(self, session_id: UUID, at: datetime) -> bool:
        self._write()
        return self._stamp_once(self.s.sessions.get(session_id), "revoked_at", at)

    def live(self, session_id: UUID, at: datetime) -> bool:
        session = self.s.sessions.get(session_id)
        return session is not None and session.revoked_at is None and session.expires_at > at


class _RefreshTokens(_Repo):
    def add(self, token: RefreshToken) -> None:
        self._write()
        if token.token_hash in self.s.refresh_hashes:
            raise Conflict("token_hash")
        if token.id in self.s.refresh:
            raise Conflict("id")
        if token.session_id not in self.s.sessions:
            raise MissingReference("session")

        def undo():
            self.s.refresh.pop(token.id, None)
            self.s.refresh_hashes.pop(token.token_hash, None)

        self._on_rollback(undo)
        self.s.refresh[token.id] = replace(token)
        self.s.refresh_hashes[token.token_hash] = token.id

    def by_hash(self, token_hash: str) -> RefreshToken | None:
        token_id = self.s.refresh_hashes.get(token_hash)
        return replace(self.s.refresh[token_id]) if token_id else None

    def rotate(self, token_id: UUID, at: datetime) -> bool:
        """Under the store's lock, as every write is: of concurrent rotations one sees None."""
        self._write()
        return self._stamp_once(self.s.refresh.get(token_id), "rotated_at", at)


class _SigningKeys(_Repo):
    def add(self, key: SigningKey) -> None:
        self._write()
        if key.kid in self.s.signing:
            raise Conflict("kid")
        self._on_rollback(lambda: self.s.signing.pop(key.kid, None))
        self.s.signing[key.kid] = copy.deepcopy(key)

    def get(self, kid: str) -> SigningKey | None:
        found = self.s.signing.get(kid)
        return copy.deepcopy(found) if found else None

    def live(self, at: datetime) -> list[SigningKey]:
        found = sorted((k for k in self.s.signing.values() if k.expires_at > at), key=lambda k: k.kid)
        # Newest first; the sort is stable, so equal times keep kid order.
        return [copy.deepcopy(k) for k in sorted(found, key=lambda k: k.created_at, reverse=True)]

    def prune(self, at: datetime) -> int:
        self._write()
        gone = {kid: k for kid, k in self.s.signing.items() if k.expires_at <= at}
        self._on_rollback(lambda: self.s.signing.update(gone))
        for kid in gone:
            del self.s.signing[kid]
        return len(gone)


class _RateLimits(_Repo):
    """GCRA buckets: key -> theoretical arrival time. A missing key means 0; so does a tat in the
    past, so every RATE_HOUSEKEEPING_EVERY-th acquire drops those. A key given twice in one call is
    refused with ValueError, as the SQL store does."""

    def peek(self, buckets: list[RateBucket], now: float) -> float:
        bucket_keys(buckets)
        return gcra_fit(buckets, self.s.rate, now)[1]

    def acquire(self, buckets: list[RateBucket], now: float) -> float:
        self._write()
        bucket_keys(buckets)
        new_tats, wait = gcra_fit(buckets, self.s.rate, now)
        if wait == 0.0 and new_tats:
            old = {key: self.s.rate.get(key) for key in new_tats}
            self._on_rollback(lambda: self._restore(old))
            self.s.rate.update(new_tats)
        self.s.rate_ticks += 1
        if self.s.rate_ticks % RATE_HOUSEKEEPING_EVERY == 0:
            stale = {key: tat for key, tat in self.s.rate.items() if tat < now}
            self._on_rollback(lambda: self.s.rate.update(stale))
            for key in stale:
                del self.s.rate[key]
        return wait

    def _restore(self, old: dict[str, float | None]) -> None:
        for key, tat in old.items():
            if tat is None:
                self.s.rate.pop(key, None)
            else:
                self.s.rate[key] = tat


class _Session:
    """The repositories over one state. Stateless besides it (and the undo list of a write), so
    one read-only session serves every read."""

    def __init__(self, state: _State, undo: list | None):
        self.tenants = _Tenants(state, undo)
        self.entitlements = _Entitlements(state, undo)
        self.api_keys = _ApiKeys(state, undo)
        self.audit = _Audit(state, undo)
        self.users = _Users(state, undo)
        self.memberships = _Memberships(state, undo)
        self.auth_sessions = _AuthSessions(state, undo)
        self.refresh_tokens = _RefreshTokens(state, undo)
        self.signing_keys = _SigningKeys(state, undo)
        self.rate_limits = _RateLimits(state, undo)


class _Reading:
    """read()'s context: the store's lock around the one read-only session. A class rather than a
    generator context manager, as it is entered on every authenticated request (and most
    handlers) and the generator machinery costs several times the lock."""

    __slots__ = ("_lock", "_session")

    def __init__(self, lock, session: _Session):
        self._lock = lock
        self._session = session

    def __enter__(self) -> _Session:
        self._lock.acquire()
        return self._session

    def __exit__(self, *exc) -> None:
        self._lock.release()


class MemoryStore:
    never_blocks = True  # every call is a few dict operations under one lock: handlers run inline

    def __init__(self):
        self._state = _State()
        self._lock = threading.RLock()
        # read() is on every request's path: one read-only session, one context object, built once
        self._reading = _Reading(self._lock, _Session(self._state, None))

    def read(self) -> _Reading:
        return self._reading

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
