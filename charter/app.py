"""The app factory: Connexion's spec-driven middleware around Charter's handler app, over one store.

The stack, outermost first (one Connexion app per process):

    ServerErrorMiddleware        last-resort 500, in the error shape
    RequestMiddleware            request id, access log, body limits, text sanity, services
    ExceptionMiddleware          every error rendered as {"error", "message"}
    IndexedRoutingMiddleware     method + path -> operationId, from the merged spec (charter.router)
    UnroutedMiddleware           no operation: /openapi.json, /v1/openapi.json and /docs, else 404 / 405
    AuthMiddleware               the spec's security: credentials, liveness, tenant header, scopes
    CachedRequestValidation      parameters and body against the spec (validators built once)
    ResponseValidationMiddleware only when validate_responses (tests, development)
    LifespanMiddleware
    HandlerApp                   the operationId's function, its answer written as JSON
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Iterable

from connexion.apps.abstract import AbstractApp
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions

from auth import ratelimit
from auth.apikeys import KeyVerifier
from auth.middleware import AuthMiddleware
from auth.signing import KeyRing
from auth.tokens import LEEWAY_S, Tokens
from charter import errors, formats, runtime, specs
from charter.catalog import Catalog
from charter.config import Settings
from charter.dispatch import HandlerApp, Runner
from charter.middleware import RequestMiddleware
from charter.router import IndexedRoutingMiddleware
from charter.routes import RouteTable, UnroutedMiddleware
from charter.validation import CachedRequestValidationMiddleware


class CharterApp(AbstractApp):
    """A Connexion app whose innermost layer is charter.dispatch.HandlerApp."""

    def __init__(self, import_name: str, *, runner: Runner, **kwargs):
        self._middleware_app = HandlerApp(runner)
        super().__init__(import_name, **kwargs)

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        self._middleware_app.add_url_rule(rule, endpoint=endpoint, view_func=view_func, **options)

    def add_error_handler(self, code_or_exception, function) -> None:
        self.middleware.add_error_handler(code_or_exception, function)


def middlewares(services: runtime.Services, spec: dict, routes: RouteTable, validate_responses: bool) -> list:
    stack = [
        ServerErrorMiddleware,
        partial(RequestMiddleware, services=services),
        ExceptionMiddleware,
        IndexedRoutingMiddleware,
        partial(UnroutedMiddleware, table=routes),
        partial(AuthMiddleware, services=services, spec=spec),
        CachedRequestValidationMiddleware,
    ]
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    return stack + [LifespanMiddleware]


def build_services(settings: Settings, store=None) -> runtime.Services:
    """What handlers reach through charter.runtime: the store (DATABASE_URL's unless given), the
    catalog, the API key verifier, tokens over this process's signing keys, the rate limits and
    the runner for blocking calls."""
    from store import open_store

    if store is None:
        store = open_store(settings.database_url)
    try:
        limits = ratelimit.Limits(ratelimit.parse(settings.rate_limits))
    except ValueError as exc:
        raise SystemExit(f"CHARTER_RATE_LIMITS: {exc}") from None
    keyring = KeyRing(
        store,
        rotate_every=timedelta(seconds=settings.key_rotation),
        outlives_by=timedelta(seconds=settings.longest_token + LEEWAY_S),
    )
    return runtime.Services(
        store=store,
        settings=settings,
        catalog=Catalog.load(settings.catalog_file),
        keys=KeyVerifier(),
        tokens=Tokens(keyring, issuer=settings.issuer, audience=settings.audience),
        limits=limits,
        runner=Runner(settings.handler_threads(store)),
    )


def create_app(
    names: Iterable[str] = (),
    *,
    settings: Settings | None = None,
    store=None,
    validate_responses: bool = False,
) -> CharterApp:
    """Mount every spec in specs/ (or the named subset) over `store` (default: DATABASE_URL)."""
    settings = settings or Settings.from_env()
    names = tuple(names) or settings.specs
    formats.install()
    services = build_services(settings, store)
    spec = specs.load_merged(names)
    routes = RouteTable(spec)
    app = CharterApp(
        __name__,
        runner=services.runner,
        middlewares=middlewares(services, spec, routes, validate_responses),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    app.add_api(spec, validate_responses=validate_responses, strict_validation=False)
    errors.install(app, routes)
    app.services = services
    return app
