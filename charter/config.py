"""The spine's settings, read once from the environment with sane defaults.

Each API reads its own settings from the same environment (`Settings.env`), with the readers
here (`whole`, `positive`, `seconds`, `flag`), so the spine carries nothing of any one API's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
DEFAULT_SQLITE_FILE = "charter.db"
DEFAULT_HANDLER_THREADS = 4


def whole(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """An integer setting; SystemExit naming the variable when it is not one."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None


def positive(env: Mapping[str, str], name: str, default: int, what: str = "a positive whole number") -> int:
    """A whole number of at least 1; SystemExit naming the variable otherwise."""
    value = whole(env, name, default)
    assert value is not None
    if value < 1:
        raise SystemExit(f"{name} must be {what}, got {value}")
    return value


def seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive number of seconds."""
    return positive(env, name, default, "a positive number of seconds")


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A switch: 1, true, yes or on; 0, false, no or off (any case); SystemExit naming the
    variable when it is something else."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name} must be 1 or 0, got {env.get(name)!r}")


def _frozen(env: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(env))


@dataclass(frozen=True)
class Settings:
    database_url: str
    max_body_bytes: int = 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    specs: tuple[str, ...] = field(default_factory=tuple)  # CHARTER_SPECS: the APIs to mount
    threads: int | None = None  # CHARTER_HANDLER_THREADS; None: chosen by the store
    api_version: str = "v1"
    max_json_depth: int = 64  # CHARTER_MAX_JSON_DEPTH: arrays and objects nested deeper answer 400
    max_headers: int = 100  # CHARTER_MAX_HEADERS: more header fields answer 431
    max_header_bytes: int = 32 * 1024  # CHARTER_MAX_HEADER_BYTES: all names and values together
    trusted_proxies: str = ""  # CHARTER_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed
    idempotency_window_s: int = 24 * 3600  # CHARTER_IDEMPOTENCY_WINDOW_S: how long answers are kept
    env: Mapping[str, str] = field(default_factory=lambda: _frozen({}), compare=False, repr=False)

    def handler_threads(self, store: Any) -> int:
        """Threads that run handlers: none (on the event loop) for a store that never blocks."""
        if self.threads is not None:
            return self.threads
        return 0 if getattr(store, "never_blocks", False) else DEFAULT_HANDLER_THREADS

    def with_env(self, **values: str) -> Settings:
        """These settings with more environment (an API's settings read it)."""
        return replace(self, env=_frozen({**self.env, **values}))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        url = env.get("DATABASE_URL") or f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
        specs = tuple(s.strip() for s in env.get("CHARTER_SPECS", "").split(",") if s.strip())
        return cls(
            database_url=url,
            max_body_bytes=whole(env, "CHARTER_MAX_BODY_BYTES", 1024 * 1024) or 0,
            host=env.get("CHARTER_HOST") or "127.0.0.1",
            port=whole(env, "CHARTER_PORT", 8080) or 0,
            workers=whole(env, "CHARTER_WORKERS", 1) or 0,
            specs=specs,
            threads=whole(env, "CHARTER_HANDLER_THREADS", None),
            api_version=env.get("CHARTER_API_VERSION") or "v1",
            max_json_depth=positive(env, "CHARTER_MAX_JSON_DEPTH", 64),
            max_headers=positive(env, "CHARTER_MAX_HEADERS", 100),
            max_header_bytes=positive(env, "CHARTER_MAX_HEADER_BYTES", 32 * 1024),
            trusted_proxies=env.get("CHARTER_TRUSTED_PROXIES") or "",
            idempotency_window_s=seconds(env, "CHARTER_IDEMPOTENCY_WINDOW_S", 24 * 3600),
            env=_frozen(env),
        )
