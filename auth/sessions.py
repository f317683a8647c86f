"""Login sessions and support sessions: what login, refresh, logout and support-session do.

A login opens a session and gives the caller an access token (which names the session, `sid`)
and a refresh token. Refreshing rotates: the token used is spent and a new one issued; a spent
token used again means it leaked, so the whole session (the token family) is revoked and every
access token of it stops working at once. Logout revokes the session the same way. Refresh tokens
are 256 random bits, stored as their SHA-256 only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from auth import audit, passwords
from auth.principal import SESSION_KINDS, SUPPORT, USER, Principal
from charter.errors import ApiError
from store.errors import MissingReference
from store.models import AuthSession, RefreshToken, utcnow

REFRESH_PREFIX = "rt_"
_REFRESH = re.compile(r"rt_[A-Za-z0-9_-]{43}")
COOKIE = "charter_session"
COOKIE_PATH = "/v1/auth"


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_at: int  # of the access token, epoch seconds
    session: AuthSession
    roles: list[str]
    refresh_token: str | None = None


def _invalid_credentials() -> ApiError:
    return ApiError(401, "the email or the password is wrong", "invalid_credentials")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: AuthSession, now: datetime) -> tuple[str, RefreshToken]:
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, RefreshToken(
        id=uuid4(), session_id=session.id, token_hash=_digest(token), created_at=now, expires_at=session.expires_at
    )


def _mint(svc, session: AuthSession, roles: list[str], now: datetime) -> tuple[str, int]:
    remaining = int((session.expires_at - now).total_seconds())
    return svc.tokens.mint(
        kind=USER,
        subject=str(session.user_id),
        session_id=session.id,
        ttl=max(1, min(svc.settings.access_ttl, remaining)),
        roles_=roles,
        tenant_id=session.tenant_id,
    )


def _roles_for(user, memberships, tenant_id: UUID | None) -> list[str] | None:
    """The roles the user holds where a session is bound (its platform roles when unbound);
    None when it holds none there, or is disabled."""
    if user is None or user.disabled_at is not None:
        return None
    if tenant_id is None:
        return list(user.platform_roles) or None
    roles = next((list(m.roles) for m in memberships if m.tenant_id == tenant_id), None)
    return roles or None


def login(svc, email: str, password: str, tenant_id: UUID | None, ip: str | None) -> Issued:
    email = email.strip().lower()
    svc.limits.check(svc.store, "login", account=email)  # its failures so far
    svc.limits.acquire(svc.store, "login", ip=ip)  # every attempt: each costs an argon2 run
    with svc.store.read() as s:
        user = s.users.by_email(email)
        usable = user is not None and user.disabled_at is None
        memberships = s.memberships.for_user(user.id) if usable else []
    if not passwords.verify(user.password_hash if usable else None, password):
        svc.limits.charge(svc.store, "login", account=email)
        _login_failed(svc, email, user, "bad_credentials")
        raise _invalid_credentials()
    if tenant_id is None and not user.platform_roles:
        if not memberships:
            _login_failed(svc, email, user, "no_membership")
            raise ApiError(403, "this user is a member of no tenant", "no_membership")
        if len(memberships) > 1:
            raise ApiError(
                400, "this user belongs to several tenants: name one in tenant_id or x-tenant-id", "tenant_required"
            )
        tenant_id = memberships[0].tenant_id
    roles = _roles_for(user, memberships, tenant_id)
    if not roles:
        _login_failed(svc, email, user, "not_a_member")
        raise ApiError(403, "this user is not a member of that tenant", "not_a_member")
    now = utcnow()
    session = AuthSession(
        id=uuid4(),
        user_id=user.id,
        kind="login",
        roles=roles,
        created_at=now,
        expires_at=now + timedelta(seconds=svc.settings.session_ttl),
        tenant_id=tenant_id,
    )
    refresh, record = _new_refresh(session, now)
    try:
        with svc.store.write() as s:
            s.auth_sessions.add(session)
            s.refresh_tokens.add(record)
            s.audit.append(
                audit.event(
                    "auth.login",
                    tenant_id=tenant_id,
                    target_type="session",
                    target_id=session.id,
                    actor_id=str(user.id),
                    actor_type=USER,
                )
            )
    except MissingReference:  # the tenant or user went away meanwhile
        raise _invalid_credentials() from None
    access, expires_at = _mint(svc, session, roles, now)
    return Issued(access, expires_at, session, roles, refresh)


def _login_failed(svc, email: str, user, reason: str) -> None:
    with svc.store.write() as s:
        s.audit.append(
            audit.event(
                "auth.login_failed",
                target_type="user",
                target_id=user.id if user else email,
                actor_id=str(user.id) if user else None,
                actor_type=USER,
                metadata={"email": email, "reason": reason},
            )
        )


def refresh(svc, token: str | None) -> Issued:
    """Spend a refresh token for a new access and refresh token; reuse revokes the family."""
    invalid = ApiError(401, "the refresh token is not valid", "invalid_refresh_token")
    if not token or not _REFRESH.fullmatch(token):
        raise invalid
    now = utcnow()
    with svc.store.read() as s:
        record = s.refresh_tokens.by_hash(_digest(token))
        session = s.auth_sessions.get(record.session_id) if record else None
        user = s.users.get(session.user_id) if session else None
        memberships = s.memberships.for_user(user.id) if user else []
        roles = _roles_for(user, memberships, session.tenant_id) if session else None
    if record is None or session is None or session.revoked_at is not None or session.expires_at <= now:
        raise invalid
    with svc.store.write() as s:
        if not s.refresh_tokens.rotate(record.id, now):
            s.auth_sessions.revoke(session.id, now)
            s.audit.append(
                audit.event(
                    "auth.refresh_reused",
                    tenant_id=session.tenant_id,
                    target_type="session",
                    target_id=session.id,
                    actor_id=str(session.user_id),
                    actor_type=USER,
                    metadata={"refresh_token_id": str(record.id)},
                )
            )
            reused = True
        elif roles is None:  # the user was disabled, or lost its roles where the session is bound
            s.auth_sessions.revoke(session.id, now)
            s.audit.append(
                audit.event(
                    "auth.logout",
                    tenant_id=session.tenant_id,
                    target_type="session",
                    target_id=session.id,
                    actor_id=str(session.user_id),
                    actor_type=USER,
                    metadata={"reason": "roles_withdrawn"},
                )
            )
            reused = None
        else:
            new_token, new_record = _new_refresh(session, now)
            s.refresh_tokens.add(new_record)
            s.audit.append(
                audit.event(
                    "auth.refreshed",
                    tenant_id=session.tenant_id,
                    target_type="session",
                    target_id=session.id,
                    actor_id=str(session.user_id),
                    actor_type=USER,
                )
            )
            reused = False
    if reused:
        raise ApiError(
            401, "this refresh token was used before: the session is revoked, sign in again", "refresh_token_reused"
        )
    if reused is None:
        raise invalid
    access, expires_at = _mint(svc, session, roles, now)
    return Issued(access, expires_at, session, roles, new_token)


def logout(svc, principal: Principal) -> None:
    if principal.kind not in SESSION_KINDS:
        raise ApiError(409, f"a {principal.kind} credential has no session to end; it expires by itself", "no_session")
    now = utcnow()
    with svc.store.write() as s:
        session = s.auth_sessions.get(principal.session_id)
        if s.auth_sessions.revoke(principal.session_id, now):
            s.audit.append(
                audit.event(
                    "auth.logout",
                    tenant_id=session.tenant_id if session else None,
                    target_type="session",
                    target_id=principal.session_id,
                )
            )


def start_support(svc, principal: Principal, tenant_id: UUID, reason: str, ttl: int, hidden: ApiError) -> Issued:
    """A support user's time-boxed session inside one tenant."""
    if principal.kind != USER:
        raise ApiError(
            403, f"support sessions are opened by support users, not by a {principal.kind} credential", "forbidden"
        )
    now = utcnow()
    session = AuthSession(
        id=uuid4(),
        user_id=UUID(principal.subject),
        kind="support",
        roles=["support"],
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        tenant_id=tenant_id,
        reason=reason,
    )
    try:
        with svc.store.write() as s:
            if s.tenants.get(tenant_id) is None:
                raise hidden
            s.auth_sessions.add(session)
            s.audit.append(
                audit.event(
                    "auth.support_session_started",
                    tenant_id=tenant_id,
                    target_type="session",
                    target_id=session.id,
                    metadata={"reason": reason, "expires_in": ttl},
                )
            )
    except MissingReference:
        raise hidden from None
    access, expires_at = svc.tokens.mint(
        kind=SUPPORT,
        subject=principal.subject,
        session_id=session.id,
        ttl=ttl,
        roles_=["support"],
        tenant_id=tenant_id,
        reason=reason,
    )
    return Issued(access, expires_at, session, ["support"])
