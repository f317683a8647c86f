"""Login and support sessions, and the refresh tokens of their families, in memory."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE, follow
from store.memory.tenants import TenantRows
from store.memory.users import UserRows
from store.models import INACTIVE_TENANT_STATUSES, AuthSession, RefreshToken


class AuthSessionRows(Rows[UUID, AuthSession]):
    on_tenant_delete = DELETE  # the sessions bound to it; platform sessions name no tenant


class RefreshTokenRows(Rows[UUID, RefreshToken]):
    on_tenant_delete = follow(AuthSessionRows, "session_id")  # a family goes with its session

    def __init__(self) -> None:
        super().__init__()
        self.hashes: dict[str, UUID] = {}

    def _index(self, key: UUID, row: RefreshToken) -> None:
        self.hashes[row.token_hash] = key

    def _unindex(self, key: UUID, row: RefreshToken) -> None:
        del self.hashes[row.token_hash]


class MemoryAuthSessions(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(AuthSessionRows)
        self._users = self._tables.of(UserRows)
        self._tenants = self._tables.of(TenantRows)

    def add(self, session: AuthSession) -> None:
        undo = self._undo()
        if session.id in self._rows.by_key:
            raise Conflict("id")
        if session.user_id not in self._users.by_key:
            raise MissingReference("user")
        if session.tenant_id is not None and session.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        self._rows.insert(session.id, copy.deepcopy(session), undo)

    def get(self, session_id: UUID) -> AuthSession | None:
        found = self._rows.by_key.get(session_id)
        return copy.deepcopy(found) if found else None

    def revoke(self, session_id: UUID, at: datetime) -> bool:
        return self._stamp_once(self._rows.by_key.get(session_id), "revoked_at", at)

    def live(self, session_id: UUID, at: datetime) -> bool:
        session = self._rows.by_key.get(session_id)
        if session is None or session.revoked_at is not None or session.expires_at <= at:
            return False
        if session.kind != "login" or session.tenant_id is None:
            return True
        tenant = self._tenants.by_key.get(session.tenant_id)
        return tenant is not None and tenant.status not in INACTIVE_TENANT_STATUSES


class MemoryRefreshTokens(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(RefreshTokenRows)
        self._sessions = self._tables.of(AuthSessionRows)

    def add(self, token: RefreshToken) -> None:
        undo = self._undo()
        if token.token_hash in self._rows.hashes:
            raise Conflict("token_hash")
        if token.id in self._rows.by_key:
            raise Conflict("id")
        if token.session_id not in self._sessions.by_key:
            raise MissingReference("session")
        self._rows.insert(token.id, replace(token), undo)

    def by_hash(self, token_hash: str) -> RefreshToken | None:
        token_id = self._rows.hashes.get(token_hash)
        return replace(self._rows.by_key[token_id]) if token_id else None

    def rotate(self, token_id: UUID, at: datetime) -> bool:
        """Under the store's lock, as every write is: of concurrent rotations one sees None."""
        return self._stamp_once(self._rows.by_key.get(token_id), "rotated_at", at)
