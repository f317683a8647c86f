"""The peer: Charter's benchmarked registry operations served by FastAPI + pydantic.

Each endpoint validates the request the idiomatic FastAPI way (typed path and query parameters,
pydantic body models, a response_model equivalent to the spec's schema) and then calls the very
handler function Charter routes that operation to, with the same plain values. Handler logic,
store and audit writes are therefore identical; only the framework layer differs. A pure ASGI
middleware does Charter's per-request work around it: bind charter.runtime's context, set
X-Request-ID and X-API-Version, write one JSON access-log line to stderr.

Security is Charter's own too: one auth.gate.Gate, built from the merged spec over the same
services, admits every request in a FastAPI dependency that knows its endpoint's operationId
(credentials, token cache, session or key liveness, tenant header, scopes; public operations pass
untouched), and the endpoint binds the principal it answers (charter.runtime.bind_principal)
around the handler call, in whatever thread FastAPI runs the endpoint in. Refusals are Charter's
domain errors and answer Charter's error body, WWW-Authenticate included.

Endpoints are `def`: the handlers are blocking functions, and FastAPI runs `def` endpoints in its
threadpool. With BENCH_PEER_ENDPOINTS=async they are `async def` instead and call the handlers
inline, on the event loop, as Charter does on the memory store (fast there, but a blocking database
call then stalls every request). With BENCH_PEER_RESPONSE_MODELS=0 the endpoints declare no
response_model, so the peer neither validates nor re-serialises its answers (nor does Charter
outside tests). Both together are the fastest FastAPI gets with request validation kept.

    DATABASE_URL=… gunicorn -k uvicorn_worker.UvicornWorker -w 1 bench.peer:app
"""

from __future__ import annotations

import functools
import os
import time
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from auth.gate import Gate
from auth.principal import Principal
from charter import logs, middleware, runtime, specs
from charter.domain import DomainError, Unavailable
from charter.errors import CODES, ApiError, answer_headers
from handlers.gateway import health
from handlers.identity import tokens
from handlers.registry import api_keys, audit, tenants

SLUG = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


# ------------------------------------------------------------------ models (specs/registry.yaml)


class TenantCreate(BaseModel):
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=255)
    plan: str = "starter"
    kind: Literal["customer", "demo"] = "customer"
    sales_owner: str | None = None


class Tenant(BaseModel):
    id: UUID
    slug: str
    name: str
    status: Literal["demo", "trial", "active", "frozen", "archived"]
    kind: Literal["customer", "demo"]
    plan: str
    erp_customer_id: str | None = None
    stripe_cust_id: str | None = None
    trial_ends_at: datetime | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sales_owner: str | None = None
    created_at: datetime
    updated_at: datetime


class APIKeyCreate(BaseModel):
    tenant_id: UUID
    name: str = Field(max_length=100)
    product: str | None = None
    scopes: list[str] | None = None
    created_by: str | None = None


class APIKey(BaseModel):
    id: UUID
    tenant_id: UUID
    product: str | None = None
    name: str
    scopes: list[str]
    prefix: str
    created_by: str | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    created_at: datetime


class APIKeyCreated(BaseModel):
    api_key: APIKey
    plaintext: str
    warning: str


class VerifyRequest(BaseModel):
    key: str


class APIKeyVerify(BaseModel):
    valid: bool
    tenant_id: UUID | None = None
    product: str | None = None
    scopes: list[str] | None = None


class AuditEvent(BaseModel):
    id: int
    created_at: datetime
    tenant_id: UUID | None = None
    project_id: UUID | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    actor_type: str | None = None
    action: str
    target_id: str | None = None
    target_type: str | None = None
    target_name: str | None = None
    product: str | None = None
    metadata: dict[str, Any] | None = None
    source_ip: str | None = None
    user_agent: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: int | None = None


class Status(BaseModel):
    status: str


class ServiceToken(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    tenant_id: UUID
    scope: str


# ------------------------------------------------------------------------------- per request


class RequestContext:
    """Charter's per-request work, with Charter's own functions: bind the handlers' context, set
    X-Request-ID, write one JSON access-log line."""

    def __init__(self, app, services: runtime.Services):
        self.app = app
        self.services = services

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        who = middleware.caller_of(scope, dict(scope.get("headers") or []))
        status = [500]
        bound = runtime.bind(self.services, who)
        try:
            await self.app(
                scope, receive, middleware.stamping(send, who.request_id, status, self.services.settings.api_version)
            )
        finally:
            runtime.reset(bound)
            route = scope.get("route")
            middleware.log_access(scope, who.request_id, getattr(route, "operation_id", None), status[0], started)


def _error(status: int, message: str, code: str | None = None, headers=None) -> JSONResponse:
    """Charter's error body and headers (a 401 carries its challenge), as charter.errors answers."""
    return JSONResponse(
        {"error": code or CODES.get(status, "error"), "message": message},
        status_code=status,
        headers=answer_headers(status, headers) or None,
    )


def _endpoint(func):
    """The endpoint as written (`def`), or with BENCH_PEER_ENDPOINTS=async run inline."""
    if os.environ.get("BENCH_PEER_ENDPOINTS", "def") != "async":
        return func

    @functools.wraps(func)  # FastAPI reads the parameters through __wrapped__
    async def inline(*args, **kwargs):
        return func(*args, **kwargs)

    return inline


def _admission(gate: Gate, operation_id: str):
    """A FastAPI dependency: Charter's gate for `operation_id`, as auth.middleware runs it (with
    the raw ASGI headers the request middleware keeps on the caller). Its answer is the principal
    (None for a public operation); a refusal raises Charter's domain error."""

    async def admitted(request: Request) -> Principal | None:
        scope = request.scope
        headers = runtime.caller().headers or dict(scope.get("headers") or [])
        return await gate.admit(operation_id, scope["method"], scope["path"], headers)

    return Depends(admitted)


@contextmanager
def _acting(principal: Principal | None):
    """The principal bound for the handler, in the context the handler runs in (a `def`
    endpoint's threadpool thread runs in a copy of the request's context, so binding happens here,
    in the endpoint, not in the dependency on the event loop)."""
    if principal is None:  # a public operation: nothing bound, as auth.middleware does
        yield
        return
    token = runtime.bind_principal(principal)
    try:
        yield
    finally:
        runtime.reset_principal(token)


def _body(result):
    """A handler's answer without the status Charter's handlers may pair it with."""
    return result[0] if isinstance(result, tuple) else result


# -------------------------------------------------------------------------------------- app


def create_app(services: runtime.Services | None = None) -> FastAPI:
    """The peer over `services` (default: built from the environment as server/app.py does)."""
    services = services or build_services()
    models = os.environ.get("BENCH_PEER_RESPONSE_MODELS", "1") != "0"
    gate = Gate(services, specs.load_merged(services.settings.specs))

    def answer(model):
        return model if models else None

    app = FastAPI(title="Charter benchmark peer")
    app.add_middleware(RequestContext, services=services)

    @app.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return _error(exc.status, exc.message, exc.code, exc.headers)

    @app.exception_handler(DomainError)
    async def domain_error(_request, exc: DomainError):
        if isinstance(exc, Unavailable):
            return _error(503, "The store cannot be reached; try again shortly.", exc.code)
        answer = ApiError.of(exc)
        return _error(answer.status, answer.message, answer.code, answer.headers)

    op = "handlers.gateway.health.healthz"

    @app.get("/healthz", response_model=answer(Status), operation_id=op)
    @_endpoint
    def healthz(principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return health.healthz()

    op = "handlers.registry.tenants.create"

    @app.post(
        "/v1/tenants",
        response_model=answer(Tenant),
        response_model_exclude_unset=True,
        status_code=201,
        operation_id=op,
    )
    @_endpoint
    def create_tenant(body: TenantCreate, principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return _body(tenants.create(body.model_dump(exclude_none=True)))

    op = "handlers.registry.tenants.get"

    @app.get("/v1/tenants/{id}", response_model=answer(Tenant), response_model_exclude_unset=True, operation_id=op)
    @_endpoint
    def get_tenant(id: UUID, principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return tenants.get(str(id))

    op = "handlers.registry.api_keys.create"

    @app.post(
        "/v1/api-keys",
        response_model=answer(APIKeyCreated),
        response_model_exclude_unset=True,
        status_code=201,
        operation_id=op,
    )
    @_endpoint
    def create_api_key(body: APIKeyCreate, principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return _body(api_keys.create(body.model_dump(mode="json", exclude_none=True)))

    op = "handlers.registry.api_keys.verify"

    @app.post(
        "/v1/internal/api-keys/verify",
        response_model=answer(APIKeyVerify),
        response_model_exclude_unset=True,
        operation_id=op,
    )
    @_endpoint
    def verify_api_key(body: VerifyRequest, principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return api_keys.verify(body.model_dump())

    op = "handlers.identity.tokens.exchange"

    @app.post("/v1/auth/token", response_model=answer(ServiceToken), operation_id=op)
    @_endpoint
    def exchange_key(principal: Principal | None = _admission(gate, op)):
        with _acting(principal):
            return tokens.exchange()

    op = "handlers.registry.audit.query"

    @app.get("/v1/audit", response_model=answer(AuditPage), response_model_exclude_unset=True, operation_id=op)
    @_endpoint
    def query_audit(
        tenant_id: UUID | None = None,
        product: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: AwareDatetime | None = None,
        until: AwareDatetime | None = None,
        limit: int = Query(50, ge=1, le=500),
        cursor: int | None = Query(None, ge=INT64_MIN, le=INT64_MAX),
        principal: Principal | None = _admission(gate, op),
    ):
        with _acting(principal):
            return audit.query(
                tenant_id=str(tenant_id) if tenant_id else None,
                product=product,
                actor_id=actor_id,
                action=action,
                since=since.isoformat() if since else None,
                until=until.isoformat() if until else None,
                limit=limit,
                cursor=cursor,
            )

    return app


def build_services(settings=None, store=None) -> runtime.Services:
    """runtime.Services exactly as server.app.create_app builds them (server.app.build_services)."""
    from charter.config import Settings
    from server.app import build_services as charter_services

    return charter_services(settings or Settings.from_env(), store)


def __getattr__(name: str):
    # `bench.peer:app` is built on first access (gunicorn's import in the worker), not on import,
    # so importing this module (tests, tools) opens no store.
    if name == "app":
        logs.configure()  # the same access log as `charter serve`
        try:
            built = create_app()
        except AttributeError as exc:  # would read as "no attribute app" to the importer
            raise RuntimeError(f"building the peer failed: {exc!r}") from exc
        globals()["app"] = built
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
