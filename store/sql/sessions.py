"""Login and support sessions, and the refresh tokens of their families, over SQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.errors import Conflict
from store.models import INACTIVE_TENANT_STATUSES, AuthSession, RefreshToken
from store.sql.base import Repo, referenced, set_once
from store.sql.tables import auth_sessions, refresh_tokens, tenants

SESSION_FIELDS = tuple(c.name for c in auth_sessions.columns)
TOKEN_FIELDS = tuple(c.name for c in refresh_tokens.columns)

_SESSION = sa.select(auth_sessions).where(auth_sessions.c.id == sa.bindparam("id"))
# Read on every request made with an access token: one statement, built once.
# A login session's tenant must not be switched off; a support session may look into a frozen one.
_LIVE = (
    sa.select(sa.literal(1))
    .select_from(auth_sessions.outerjoin(tenants, tenants.c.id == auth_sessions.c.tenant_id))
    .where(
        auth_sessions.c.id == sa.bindparam("id"),
        auth_sessions.c.revoked_at.is_(None),
        auth_sessions.c.expires_at > sa.bindparam("at", type_=auth_sessions.c.expires_at.type),
        sa.or_(
            auth_sessions.c.kind != "login",
            auth_sessions.c.tenant_id.is_(None),
            tenants.c.status.not_in(sorted(INACTIVE_TENANT_STATUSES)),
        ),
    )
)
_REVOKE = set_once(auth_sessions.c.revoked_at)
_SESSION_REFS = referenced(auth_sessions)

_BY_HASH = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == sa.bindparam("token_hash"))
_HASH_TAKEN = sa.select(sa.literal(1)).where(refresh_tokens.c.token_hash == sa.bindparam("token_hash"))
_ROTATE = set_once(refresh_tokens.c.rotated_at)  # of concurrent rotations exactly one wins
_TOKEN_REFS = referenced(refresh_tokens)


def _session(row) -> AuthSession:
    return AuthSession(**{name: row._mapping[name] for name in SESSION_FIELDS})


def _token(row) -> RefreshToken:
    return RefreshToken(**{name: row._mapping[name] for name in TOKEN_FIELDS})


class SqlAuthSessions(Repo):
    def add(self, session: AuthSession) -> None:
        self._write()
        values = {name: getattr(session, name) for name in SESSION_FIELDS}
        statement = self._insert(auth_sessions, auth_sessions.c.id)
        if self._insert_referencing(statement, values, _SESSION_REFS, "user or tenant").first() is None:
            raise Conflict("id")

    def get(self, session_id: UUID) -> AuthSession | None:
        row = self._run(_SESSION, {"id": session_id}).first()
        return _session(row) if row else None

    def revoke(self, session_id: UUID, at: datetime) -> bool:
        return self._set_once(_REVOKE, session_id, at)

    def live(self, session_id: UUID, at: datetime) -> bool:
        return self._run(_LIVE, {"id": session_id, "at": at}).first() is not None


class SqlRefreshTokens(Repo):
    def add(self, token: RefreshToken) -> None:
        self._write()
        values = {name: getattr(token, name) for name in TOKEN_FIELDS}
        statement = self._insert(refresh_tokens, refresh_tokens.c.id)
        if self._insert_referencing(statement, values, _TOKEN_REFS, "session").first() is None:
            taken = self._run(_HASH_TAKEN, {"token_hash": token.token_hash}).first() is not None
            raise Conflict("token_hash" if taken else "id")

    def by_hash(self, token_hash: str) -> RefreshToken | None:
        row = self._run(_BY_HASH, {"token_hash": token_hash}).first()
        return _token(row) if row else None

    def rotate(self, token_id: UUID, at: datetime) -> bool:
        return self._set_once(_ROTATE, token_id, at)
