"""The liveness and readiness probes, and the health of every dependency for people."""

from __future__ import annotations

from charter import runtime
from services.gateway import health
from services.identity.api import auth


def healthz() -> dict:
    return {"status": "ok"}


def readyz() -> dict:
    """503 store_unavailable when the store cannot be reached."""
    health.ready(runtime.store())
    return {"status": "ready"}


def report() -> dict | tuple[dict, int]:
    checks = {name: _wire(check) for name, check in health.checks(runtime.store(), auth()).items()}
    body = {"status": "ok", "version": runtime.services().settings.api_version, "checks": checks}
    down = sorted(name for name, check in checks.items() if check["status"] != "ok")
    if down:
        body["status"] = "down"
        return {"error": "unavailable", "message": f"down: {', '.join(down)}", **body}, 503
    return body


def _wire(check: health.Check) -> dict:
    if not check.ok:
        return {"status": "down", "detail": check.detail}
    return {"status": "ok", "latency_ms": check.latency_ms, "detail": check.detail}
