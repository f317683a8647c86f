"""What every scenario shares: options, servers and stores that clean up after themselves, the
credentials each server is called with, and rounds that alternate between the servers under
comparison (A B A B …).

Credentials: every server of a run gets the same CHARTER_ADMIN_KEY (a fresh random one), the
platform_admin bearer for creating tenants and keys and for reading the audit log. A tenant-bound
service token (service_token) is what a product calling the registry would hold: an API key of
that tenant with scope tenants:read, exchanged at POST /v1/auth/token.
"""

from __future__ import annotations

import secrets
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import databases, load, servers
from bench.load import Op, Result
from bench.report import Summary
from bench.servers import bearer
from bench.worktree import Checkout
from charter import sealing

TENANT_BODY = '{"slug":"{slug}","name":"Bench tenant"}'
POST_TENANT = Op("POST", "/v1/tenants", TENANT_BODY)
VERIFY_RATE = 200  # requests per second, scenario 3
OPEN_LOOP_CONNECTIONS = 8
SERVICE_TOKEN_TTL_S = 600  # Charter's default CHARTER_SERVICE_TOKEN_TTL


@dataclass(frozen=True)
class Options:
    duration: int
    rounds: int
    connections: int
    quick: bool
    use_wrk: bool
    peer_endpoints: str = "def"  # or "async": bench/peer.py's BENCH_PEER_ENDPOINTS
    peer_response_models: bool = True  # bench/peer.py's BENCH_PEER_RESPONSE_MODELS
    baseline_goal: float = 0.90  # --baseline-goal: Charter's req/s over the baseline's, at least

    @property
    def warmup(self) -> int:
        return 1 if self.quick else 2

    @property
    def token_ttl(self) -> int | None:
        """CHARTER_SERVICE_TOKEN_TTL for the servers when the default would expire before one
        scenario's rounds are over (at most 3 servers x 2 operations, a token minted before them);
        None, as a user runs Charter, whenever the default is long enough (it is, with the
        defaults). The lifetime costs a request nothing: a verified token is cached until it expires."""
        needed = 3 * 2 * (self.warmup + self.rounds * self.duration) + 120
        return needed if needed > SERVICE_TOKEN_TTL_S else None


class Run:
    """One `python -m bench` run: its temp dir, its options, and what scenarios hand each other."""

    def __init__(self, options: Options, root: Path, baseline: Checkout | None = None):
        self.options = options
        self.root = root
        self.baseline = baseline  # another revision served next to Charter in scenario 1
        self.admin_key = secrets.token_urlsafe(32)  # every server's CHARTER_ADMIN_KEY
        # Every server's CHARTER_SECRET_KEY (secrets at rest: required on PostgreSQL), fresh per run.
        self.env = {"CHARTER_SECRET_KEY": sealing.new_key()}
        if options.token_ttl:
            self.env["CHARTER_SERVICE_TOKEN_TTL"] = str(options.token_ttl)
        self.pg_problem: str | None = None
        self.memory: dict[str, Summary] = {}  # scenario 1's Charter memory numbers, by operation
        self.peer_memory: dict[str, Summary] = {}
        self.notes: list[str] = []
        self._count = 0

    def say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def tag(self) -> str:
        """A short name no other server, store or slug prefix of this run has."""
        self._count += 1
        return f"b{self._count}{uuid.uuid4().hex[:5]}"

    # ------------------------------------------------------------------ stores and servers

    def sqlite(self, stack: ExitStack) -> str:
        return databases.sqlite_file(self.root / "db" / f"{self.tag()}.db")

    def postgres(self, stack: ExitStack, root: Path | None = None) -> str:
        """A fresh schema, migrated by this checkout, or by the one at `root` (the baseline's)."""
        return stack.enter_context(databases.postgres_schema(self.tag(), root))

    def start(
        self, stack: ExitStack, name: str, store: str, url: str, env: dict[str, str] | None = None
    ) -> servers.Server:
        """`name`: "charter", "peer", or "baseline" (Charter at the --baseline revision); `env`:
        more environment for Charter."""
        workdir = self.root / f"{name}-{store}-{self.tag()}"
        if name == "charter":
            # Scenario 5 validates one key from one address, far past the per-worker validate limits.
            env = {**self.env, "CHARTER_RATE_LIMITS": "validate.ip=off,validate.key=off", **(env or {})}
            server = servers.start_charter(store, url, workdir, self.admin_key, env)
        elif name == "baseline":
            if self.baseline is None:
                raise RuntimeError("no --baseline revision to serve")
            server = servers.start_charter(
                store,
                url,
                workdir,
                self.admin_key,
                self.env,
                root=self.baseline.path,
                name="baseline",
            )
        else:
            server = servers.start_peer(
                store,
                url,
                workdir,
                self.admin_key,
                self.env,
                self.options.peer_endpoints,
                self.options.peer_response_models,
            )
        stack.callback(self._stop, server)
        return server

    def job_worker(self, stack: ExitStack, url: str, env: dict[str, str] | None = None) -> servers.JobProcess:
        """`charter worker` on `url`, stopped at the end of the stack."""
        worker = servers.start_job_worker(url, self.root / f"jobs-{self.tag()}", {**self.env, **(env or {})})
        stack.callback(worker.stop)
        return worker

    def _stop(self, server: servers.Server) -> None:
        server.stop()
        bad = {
            status: n
            for status, n in server.access_statuses().items()
            if not (isinstance(status, int) and 200 <= status < 300)
        }
        if bad:
            self.notes.append(f"FAIL {server.label}: its access log shows non-2xx answers {bad} ({server.log_path})")

    # ---------------------------------------------------------------------------- driving

    def closed(self, server: servers.Server, op: Op, duration: int | None = None) -> Result:
        """A closed loop; a body with "{slug}" gets a fresh slug per request, any other body is
        sent as it is (wrk's script then formats its request once, not once per request)."""
        return load.closed_loop(
            server.base,
            op,
            duration or self.options.duration,
            self.options.connections,
            self.tag() if "{slug}" in (op.body or "") else "",
            use_wrk=self.options.use_wrk,
        )

    def open(self, server: servers.Server, op: Op, duration: float | None = None) -> Result:
        return load.open_loop(server.base, op, VERIFY_RATE, duration or self.options.duration, OPEN_LOOP_CONNECTIONS)

    def alternate(self, entries: list[tuple[servers.Server, Op]], drive=None) -> list[Summary]:
        """Rounds over every entry in turn (A B A B …); the medians per entry."""
        drive = drive or self.closed
        results: list[list[Result]] = [[] for _ in entries]
        for number in range(self.options.rounds):
            for i, (server, op) in enumerate(entries):
                result = drive(server, op)
                results[i].append(result)
                self.say(
                    f"  round {number + 1}/{self.options.rounds} {server.label:<17} "
                    f"{op.method} {op.path[:40]:<40} {result.rps:9.1f} req/s  "
                    f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                    + ("" if result.ok else f"  FAIL non-2xx {result.non_2xx} errors {result.errors}")
                )
        return [Summary.of(r) for r in results]

    def warm(self, entries: list[tuple[servers.Server, Op]], drive=None) -> None:
        drive = drive or self.closed
        for server, op in entries:
            drive(server, op, self.options.warmup)


def new_tenant(server: servers.Server, tag: str) -> str:
    """A tenant created by the platform admin (only platform callers may create tenants)."""
    return server.expect(201, "POST", "/v1/tenants", {"slug": tag, "name": "Bench tenant"}, server.admin)["id"]


def new_key(server: servers.Server, tenant_id: str, scopes: list[str] | None = None) -> str:
    """A registry API key of the tenant, created by the platform admin; its plaintext."""
    body = {"tenant_id": tenant_id, "name": "bench", **({"scopes": scopes} if scopes else {})}
    return server.expect(201, "POST", "/v1/api-keys", body, server.admin)["plaintext"]


def serves_auth(server: servers.Server) -> bool:
    """Whether the server has the security layer (its spec offers POST /v1/auth/token): a revision
    before it (BENCH_CHARTER_ROOT, --baseline) ignores credentials and can mint no token."""
    spec = server.expect(200, "GET", "/openapi.json")
    return "post" in (spec.get("paths") or {}).get("/v1/auth/token", {})


def service_token(server: servers.Server, tenant_id: str) -> str:
    """A tenant-bound access token, as a product calling the registry holds one: an API key with
    scope tenants:read exchanged at POST /v1/auth/token (`Authorization: Bearer bp_…`, no body)."""
    key = new_key(server, tenant_id, ["tenants:read"])
    return server.expect(200, "POST", "/v1/auth/token", headers=bearer(key))["access_token"]
