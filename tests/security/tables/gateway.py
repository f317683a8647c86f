"""The gateway's operations (specs/gateway.yaml): what concerns the whole server, its health."""

from __future__ import annotations

from tests.security.rows import PUBLIC, Access, Public, Route, Row

ROWS: dict[str, Row] = {
    "handlers.gateway.health.healthz": Row(
        Public("liveness: answers a constant, reads nothing of any tenant", Route("GET", "/healthz")),
        Access(PUBLIC, 200),
    ),
    "handlers.gateway.health.readyz": Row(
        Public("readiness: pings the store, returns no row of any tenant", Route("GET", "/readyz")),
        Access(PUBLIC, 200),
    ),
    "handlers.gateway.health.report": Row(
        Public(
            "the status of each dependency (store, signing keys): counts, no row of any tenant",
            Route("GET", "/v1/health"),
            check=lambda body: None if body.get("status") == "ok" else "a dependency is down",
        ),
        Access(PUBLIC, 200),
    ),
}
