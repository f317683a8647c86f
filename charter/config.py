"""Settings, read once from the environment with sane defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
DEFAULT_SQLITE_FILE = "charter.db"
DEFAULT_HANDLER_THREADS = 4


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
        )
