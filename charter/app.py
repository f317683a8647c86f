"""The app factory: Connexion's spec-driven middleware around Charter's handler app, over one store.

The stack, outermost first (one Connexion app per process):

    ServerErrorMiddleware        last-resort 500, in the error shape
    RequestMiddleware            request id, access log, body limits, text sanity, services
    ExceptionMiddleware          every error rendered as {"error", "message"}
    RoutingMiddleware            method + path -> operationId, from the merged spec
    UnroutedMiddleware           no operation: /openapi.json and /docs, else 404 / 405
    SecurityMiddleware           the spec's security requirements
    CachedRequestValidation      parameters and body against the spec (validators built once)
    ResponseValidationMiddleware only when validate_responses (tests, development)
    LifespanMiddleware
    HandlerApp                   the operationId's function, its answer written as JSON
"""
from __future__ import annotations

from functools import partial
from typing import Iterable

from connexion.apps.abstract import AbstractApp
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions

from auth.apikeys import KeyVerifier
from charter import errors, formats, runtime, specs
from charter.catalog import Catalog
from charter.config import Settings
from charter.dispatch import HandlerApp, Runner
from charter.middleware import RequestMiddleware
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


def middlewares(services: runtime.Services, routes: RouteTable, validate_responses: bool) -> list:
    stack = [
        ServerErrorMiddleware,
        partial(RequestMiddleware, services=services),
        ExceptionMiddleware,
        RoutingMiddleware,
        partial(UnroutedMiddleware, table=routes),
        SecurityMiddleware,
        CachedRequestValidationMiddleware,
    ]
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    return stack + [LifespanMiddleware]


def create_app(
    names: Iterable[str] = (),
    *,
    settings: Settings | None = None,
    store=None,
    validate_responses: bool = False,
) -> CharterApp:
    """Mount every spec in specs/ (or the named subset) over `store` (default: DATABASE_URL)."""
    from store import open_store

    settings = settings or Settings.from_env()
    names = tuple(names) or settings.specs
    if store is None:
        store = open_store(settings.database_url)
    formats.install()

    services = runtime.Services(
        store=store,
        settings=settings,
        catalog=Catalog.load(settings.catalog_file),
        keys=KeyVerifier(),
    )
    spec = specs.load_merged(names)
    routes = RouteTable(spec)
    app = CharterApp(
        __name__,
        runner=Runner(settings.handler_threads(store)),
        middlewares=middlewares(services, routes, validate_responses),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    app.add_api(spec, validate_responses=validate_responses, strict_validation=False)
    errors.install(app, routes)
    app.services = services
    return app
