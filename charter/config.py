"""Settings, read once from the environment with sane defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
DEFAULT_SQLITE_FILE = "charter.db"
DEFAULT_HANDLER_THREADS = 4
ADMIN_KEY_MIN_LENGTH = 32
SUPPORT_SESSION_MAX_S = 3600


def _int(env: dict, name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_body_bytes: int = 1024 * 1024
    catalog_file: Path = ROOT / "catalog.yaml"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    specs: tuple[str, ...] = field(default_factory=tuple)
    threads: int | None = None  # CHARTER_HANDLER_THREADS; None: chosen by the store
    api_version: str = "v1"
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

    def handler_threads(self, store) -> int:
        """Threads that run handlers: none (on the event loop) for a store that never blocks."""
        if self.threads is not None:
            return self.threads
        return 0 if getattr(store, "never_blocks", False) else DEFAULT_HANDLER_THREADS

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        url = env.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
        specs = tuple(s for s in env.get("CHARTER_SPECS", "").split(",") if s.strip())
        return cls(
            database_url=url,
            max_body_bytes=_int(env, "CHARTER_MAX_BODY_BYTES", 1024 * 1024),
            catalog_file=Path(env.get("CHARTER_CATALOG") or ROOT / "catalog.yaml"),
            host=env.get("CHARTER_HOST") or "127.0.0.1",
            port=_int(env, "CHARTER_PORT", 8080),
            workers=_int(env, "CHARTER_WORKERS", 1),
            specs=tuple(s.strip() for s in specs),
            threads=_int(env, "CHARTER_HANDLER_THREADS", None),
            api_version=env.get("CHARTER_API_VERSION") or "v1",
            admin_key=_admin_key(env.get("CHARTER_ADMIN_KEY")),
            issuer=env.get("CHARTER_JWT_ISSUER") or "charter",
            audience=env.get("CHARTER_JWT_AUDIENCE") or "charter",
            access_ttl=_positive(env, "CHARTER_ACCESS_TOKEN_TTL", 900),
            service_ttl=_positive(env, "CHARTER_SERVICE_TOKEN_TTL", 600),
            session_ttl=_positive(env, "CHARTER_SESSION_TTL", 7 * 86400),
            key_rotation=_positive(env, "CHARTER_SIGNING_KEY_ROTATION", 86400),
            rate_limits=env.get("CHARTER_RATE_LIMITS") or "",
        )


def _positive(env: dict, name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SystemExit(f"{name} must be a positive number of seconds, got {value}")
    return value


def _admin_key(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) < ADMIN_KEY_MIN_LENGTH or value != value.strip():
        raise SystemExit(
            f"CHARTER_ADMIN_KEY must be at least {ADMIN_KEY_MIN_LENGTH} characters without "
            "surrounding spaces (try: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return value
