"""Identity's operations (specs/identity.yaml): sign-in, sessions, tokens, the principal, keys."""

from __future__ import annotations

from tests.security.rows import (
    EVERYONE,
    PLATFORM_ADMIN,
    PUBLIC,
    SERVICES,
    SIGNED_IN,
    SUPPORT,
    Access,
    Call,
    Public,
    Route,
    Row,
    Scoped,
)


def _in_b(b, body) -> str | None:
    return None if isinstance(body, dict) and body.get("tenant_id") == b.tenant_id else "not bound to B"


def _login_expect(placed: dict, header: str | None) -> tuple[int, str]:
    """A tenant_id and an x-tenant-id that disagree answer 401 tenant_mismatch; B's user asking
    for A in either answers 403 not_a_member, exactly like a tenant that does not exist."""
    body = placed.get("body:tenant_id")
    if body is not None and header is not None and body != header:
        return 401, "tenant_mismatch"
    return 403, "not_a_member"


def _exchange(path: str) -> Row:
    return Row(
        # the key's tenant is the token's: only the header can name another
        Scoped(Route("POST", path, platform_via=None, control_check=_in_b)),
        Access(SERVICES, 200, writes="auth.token_minted", denied=(401, "invalid_api_key"), credential="key"),
    )


ROWS: dict[str, Row] = {
    "handlers.identity.keys.jwks": Row(
        Public(
            "the public halves of the signing keys: the same for every tenant, no tenant's data",
            Route("GET", "/.well-known/jwks.json"),
            check=lambda body: None if isinstance(body.get("keys"), list) else "no key set",
        ),
        Access(PUBLIC, 200),
    ),
    "handlers.identity.sessions.login": Row(
        # public, yet it takes a tenant: B's users (email and password in the body) ask for A
        Scoped(
            Route(
                "POST",
                "/v1/auth/login",
                json={"tenant_id": "{tenant_id}"},
                credential="body",
                expect=_login_expect,
                platform_via=None,
                control_check=_in_b,
            ),
            Route(
                "POST",
                "/v1/auth/login",
                json={},
                credential="body",  # the tenant in x-tenant-id only
                expect=_login_expect,
                platform_via=None,
                control_check=_in_b,
            ),
            public=True,
        ),
        Access(
            PUBLIC,
            200,
            lambda x: Call(
                "POST",
                "/v1/auth/login",
                json={"email": x.b_member_email, "password": x.password, "tenant_id": x.b["id"]},
            ),
            writes="auth.login",
        ),
    ),
    "handlers.identity.sessions.refresh": Row(
        Public(
            "the refresh token in the body (or the cookie) is the credential and names its own "
            "session; one that is none answers 401 invalid_refresh_token and nothing else",
            Route("POST", "/v1/auth/refresh", json={"refresh_token": "not-a-refresh-token"}),
            expect=(401, "invalid_refresh_token"),
        ),
        Access(
            PUBLIC,
            200,
            lambda x: Call("POST", "/v1/auth/refresh", json={"refresh_token": x.refresh_token()}),
            writes="auth.refreshed",
        ),
    ),
    "handlers.identity.sessions.logout": Row(
        # names nothing but the caller's own session: the header is its only position
        Scoped(Route("POST", "/v1/auth/logout", reached=frozenset({"no_session"}), spends_credential=True)),
        Access(SIGNED_IN, 204, writes="auth.logout", denied=(409, "no_session"), spends_credential=True),
    ),
    "handlers.identity.principal.get": Row(
        Scoped(Route("GET", "/v1/auth/principal", control_check=_in_b)),
        Access(EVERYONE, 200),
    ),
    "handlers.identity.tokens.exchange": _exchange("/v1/auth/token"),
    "handlers.identity.tokens.harbor_access": _exchange("/v1/auth/harbor-access"),
    "handlers.identity.support.start": Row(
        Scoped(
            Route(
                "POST",
                "/v1/auth/support-session",
                json={"tenant_id": "{tenant_id}", "reason": "BOLA probe"},
                # the bootstrap key is no signed-in user: 403
                platform_via="platform_admin login",
            )
        ),
        # only a signed-in platform user opens one
        Access(
            frozenset({PLATFORM_ADMIN, SUPPORT}),
            201,
            lambda x: Call("POST", "/v1/auth/support-session", json={"tenant_id": x.b["id"], "reason": "matrix"}),
            writes="auth.support_session_started",
        ),
    ),
}
