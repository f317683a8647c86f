"""Identity and access settings, from the environment the spine's Settings carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from charter.config import seconds

ADMIN_KEY_MIN_LENGTH = 32
SUPPORT_SESSION_MAX_S = 3600


@dataclass(frozen=True)
class AuthSettings:
    admin_key: str | None = None  # bootstrap: `Authorization: Bearer <it>` acts as platform_admin
    issuer: str = "charter"
    audience: str = "charter"
    access_ttl: int = 900  # login access tokens, seconds
    service_ttl: int = 600  # tokens minted from API keys
    session_ttl: int = 7 * 86400  # a login session, and so its refresh tokens
    key_rotation: int = 86400  # a worker signs with one key this long
    rate_limits: str = ""  # CHARTER_RATE_LIMITS, over auth.ratelimit.DEFAULTS

    @property
    def longest_token(self) -> int:
        """The longest lifetime any access token can have, in seconds."""
        return max(self.access_ttl, self.service_ttl, SUPPORT_SESSION_MAX_S)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthSettings:
        return cls(
            admin_key=_admin_key(env.get("CHARTER_ADMIN_KEY")),
            issuer=env.get("CHARTER_JWT_ISSUER") or "charter",
            audience=env.get("CHARTER_JWT_AUDIENCE") or "charter",
            access_ttl=seconds(env, "CHARTER_ACCESS_TOKEN_TTL", 900),
            service_ttl=seconds(env, "CHARTER_SERVICE_TOKEN_TTL", 600),
            session_ttl=seconds(env, "CHARTER_SESSION_TTL", 7 * 86400),
            key_rotation=seconds(env, "CHARTER_SIGNING_KEY_ROTATION", 86400),
            rate_limits=env.get("CHARTER_RATE_LIMITS") or "",
        )


def _admin_key(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) < ADMIN_KEY_MIN_LENGTH or value != value.strip():
        raise SystemExit(
            f"CHARTER_ADMIN_KEY must be at least {ADMIN_KEY_MIN_LENGTH} characters without "
            "surrounding spaces (try: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return value
