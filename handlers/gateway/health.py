"""The health of every dependency, for probes and people."""

from __future__ import annotations

import time

from charter import runtime
from store.errors import Unavailable


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
    except Unavailable as exc:
        return {"status": "down", "detail": str(exc)}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 3), "detail": detail}


def report():
    svc = runtime.services()

    def store():
        svc.store.ping()
        return getattr(svc.store, "dialect", "memory")

    def signing_keys():
        return f"{len(svc.tokens.keyring.published())} published"

    checks = {"store": _check(store), "signing_keys": _check(signing_keys)}
    body = {"status": "ok", "version": svc.settings.api_version, "checks": checks}
    down = sorted(name for name, check in checks.items() if check["status"] != "ok")
    if down:
        body["status"] = "down"
        return {"error": "unavailable", "message": f"down: {', '.join(down)}", **body}, 503
    return body
