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

from auth import passwords
from auth.context import Auth
from auth.principal import SESSION_KINDS, SUPPORT, USER
from auth.settings import SUPPORT_SESSION_MAX_S
from charter.domain import Actor, Conflict, Event, Forbidden, Invalid, NotFound, Unauthorized
from store import errors as store_errors
from store.interface import Session, Store
from store.models import INACTIVE_TENANT_STATUSES, AuthSession, Membership, RefreshToken, User, utcnow

REFRESH_PREFIX = "rt_"
_REFRESH = re.compile(r"rt_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_at: int  # of the access token, epoch seconds
    session: AuthSession
    roles: list[str]
    refresh_token: str | None = None


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("the email or the password is wrong", "invalid_credentials")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: AuthSession, now: datetime) -> tuple[str, RefreshToken]:
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    return token, RefreshToken(
        id=uuid4(), session_id=session.id, token_hash=_digest(token), created_at=now, expires_at=session.expires_at
    )


def _mint(auth: Auth, session: AuthSession, roles: list[str], now: datetime) -> tuple[str, int]:
    remaining = int((session.expires_at - now).total_seconds())
    return auth.tokens.mint(
        kind=USER,
        subject=str(session.user_id),
        session_id=session.id,
        ttl=max(1, min(auth.settings.access_ttl, remaining)),
        roles_=roles,
        tenant_id=session.tenant_id,
    )


def _roles_for(user: User | None, memberships: list[Membership], tenant_id: UUID | None) -> list[str] | None:
    """The roles the user holds where a session is bound (its platform roles when unbound);
    None when it holds none there, or is disabled."""
    if user is None or user.disabled_at is not None:
        return None
    if tenant_id is None:
        return list(user.platform_roles) or None
    roles = next((list(m.roles) for m in memberships if m.tenant_id == tenant_id), None)
    return roles or None


def _session_event(action: str, actor: Actor, session: AuthSession, **metadata: object) -> Event:
    return Event(action, actor, "session", str(session.id), tenant_id=session.tenant_id, metadata=dict(metadata))


def login(uow: Store, auth: Auth, actor: Actor, email: str, password: str, tenant_id: UUID | None) -> Issued:
    """Sign in with an email and a password, in the tenant named (or the user's only one)."""
    email = email.strip().lower()
    auth.limits.check(uow, "login", account=email)  # its failures so far
    auth.limits.acquire(uow, "login", ip=actor.source_ip)  # every attempt: each costs an argon2 run
    with uow.read() as s:
        user = s.users.by_email(email)
        usable = user is not None and user.disabled_at is None
        memberships = s.memberships.for_user(user.id) if user is not None and usable else []
    # Verified whether or not the user exists, so the answer time does not tell which emails do.
    verified = passwords.verify(user.password_hash if user is not None and usable else None, password)
    if user is None or not verified:
        auth.limits.charge(uow, "login", account=email)
        _login_failed(uow, actor, email, user, "bad_credentials")
        raise _invalid_credentials()
    if tenant_id is None and not user.platform_roles:
        if not memberships:
            _login_failed(uow, actor, email, user, "no_membership")
            raise Forbidden("this user is a member of no tenant", "no_membership")
        if len(memberships) > 1:
            raise Invalid(
                "this user belongs to several tenants: name one in tenant_id or x-tenant-id", "tenant_required"
            )
        tenant_id = memberships[0].tenant_id
    roles = _roles_for(user, memberships, tenant_id)
    if not roles:
        _login_failed(uow, actor, email, user, "not_a_member")
        raise Forbidden("this user is not a member of that tenant", "not_a_member")
    if tenant_id is not None and not _tenant_active(uow, tenant_id):  # known only now: one more read
        _login_failed(uow, actor, email, user, "tenant_inactive")
        raise Forbidden("this tenant is switched off (frozen or archived)", "tenant_inactive")
    now = utcnow()
    session = AuthSession(
        id=uuid4(),
        user_id=user.id,
        kind="login",
        roles=roles,
        created_at=now,
        expires_at=now + timedelta(seconds=auth.settings.session_ttl),
        tenant_id=tenant_id,
    )
    refresh, record = _new_refresh(session, now)
    try:
        with uow.write() as s:
            s.auth_sessions.add(session)
            s.refresh_tokens.add(record)
            s.record(_session_event("auth.login", actor.as_(USER, str(user.id)), session))
    except store_errors.MissingReference:  # the tenant or user went away meanwhile
        raise _invalid_credentials() from None
    access, expires_at = _mint(auth, session, roles, now)
    return Issued(access, expires_at, session, roles, refresh)


def _tenant_active(uow: Store, tenant_id: UUID) -> bool:
    with uow.read() as s:
        return _active(s, tenant_id)


def _active(s: Session, tenant_id: UUID) -> bool:
    tenant = s.tenants.get(tenant_id)
    return tenant is not None and tenant.status not in INACTIVE_TENANT_STATUSES


def _login_failed(uow: Store, actor: Actor, email: str, user: User | None, reason: str) -> None:
    with uow.write() as s:
        s.record(
            Event(
                "auth.login_failed",
                actor.as_(USER, str(user.id) if user else None),
                "user",
                str(user.id) if user else email,
                metadata={"email": email, "reason": reason},
            )
        )


def refresh(uow: Store, auth: Auth, actor: Actor, token: str | None) -> Issued:
    """Spend a refresh token for a new access and refresh token; reuse revokes the family."""
    invalid = Unauthorized("the refresh token is not valid", "invalid_refresh_token")
    if not token or not _REFRESH.fullmatch(token):
        raise invalid
    now = utcnow()
    with uow.read() as s:
        record = s.refresh_tokens.by_hash(_digest(token))
        session = s.auth_sessions.get(record.session_id) if record else None
        user = s.users.get(session.user_id) if session else None
        memberships = s.memberships.for_user(user.id) if user else []
        roles = _roles_for(user, memberships, session.tenant_id) if session else None
        active = session is None or session.tenant_id is None or _active(s, session.tenant_id)
    if record is None or session is None or session.revoked_at is not None or session.expires_at <= now:
        raise invalid
    if not active:
        # Not revoked: should the tenant be switched on again, the session may go on.
        raise Unauthorized("the session's tenant is switched off (frozen or archived)", "tenant_inactive")
    as_user = actor.as_(USER, str(session.user_id))
    new_token = None
    with uow.write() as s:
        if not s.refresh_tokens.rotate(record.id, now):
            s.auth_sessions.revoke(session.id, now)
            s.record(_session_event("auth.refresh_reused", as_user, session, refresh_token_id=str(record.id)))
            outcome = "reused"
        elif roles is None:  # the user was disabled, or lost its roles where the session is bound
            s.auth_sessions.revoke(session.id, now)
            s.record(_session_event("auth.logout", as_user, session, reason="roles_withdrawn"))
            outcome = "withdrawn"
        else:
            new_token, new_record = _new_refresh(session, now)
            s.refresh_tokens.add(new_record)
            s.record(_session_event("auth.refreshed", as_user, session))
            outcome = "refreshed"
    if outcome == "reused":
        raise Unauthorized(
            "this refresh token was used before: the session is revoked, sign in again", "refresh_token_reused"
        )
    if roles is None:
        raise invalid
    access, expires_at = _mint(auth, session, roles, now)
    return Issued(access, expires_at, session, roles, new_token)


def logout(uow: Store, actor: Actor) -> None:
    """End the actor's session; every access token of it stops working at once."""
    if actor.kind not in SESSION_KINDS or actor.session_id is None:
        raise Conflict(f"a {actor.kind} credential has no session to end; it expires by itself", "no_session")
    now = utcnow()
    with uow.write() as s:
        session = s.auth_sessions.get(actor.session_id)
        if s.auth_sessions.revoke(actor.session_id, now):
            s.record(
                Event(
                    "auth.logout",
                    actor,
                    "session",
                    str(actor.session_id),
                    tenant_id=session.tenant_id if session else None,
                )
            )


def start_support(
    uow: Store, auth: Auth, actor: Actor, *, tenant_id: UUID, reason: str, expires_in: int | None = None
) -> Issued:
    """A support user's time-boxed session (at most SUPPORT_SESSION_MAX_S) inside one tenant."""
    hidden = NotFound(f"no tenant with id {tenant_id}", "tenant_not_found")
    if not actor.sees(tenant_id):
        raise hidden
    if actor.kind != USER or actor.id is None:
        raise Forbidden(f"support sessions are opened by support users, not by a {actor.kind} credential")
    ttl = min(int(expires_in or SUPPORT_SESSION_MAX_S), SUPPORT_SESSION_MAX_S)
    reason = reason.strip()
    now = utcnow()
    session = AuthSession(
        id=uuid4(),
        user_id=UUID(actor.id),
        kind="support",
        roles=["support"],
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        tenant_id=tenant_id,
        reason=reason,
    )
    try:
        with uow.write() as s:
            if s.tenants.get(tenant_id) is None:
                raise hidden
            s.auth_sessions.add(session)
            s.record(_session_event("auth.support_session_started", actor, session, reason=reason, expires_in=ttl))
    except store_errors.MissingReference:
        raise hidden from None
    access, expires_at = auth.tokens.mint(
        kind=SUPPORT,
        subject=actor.id,
        session_id=session.id,
        ttl=ttl,
        roles_=["support"],
        tenant_id=tenant_id,
        reason=reason,
    )
    return Issued(access, expires_at, session, ["support"])
