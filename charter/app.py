"""The app factory: Connexion's spec-driven middleware around Charter's handler app, for the APIs
given, over the services given. It knows no particular API: the composition root (server.app)
says which APIs exist, builds the store and the security layer, and calls create_app.

The stack, outermost first (one Connexion app per process):

    ServerErrorMiddleware        last-resort 500, in the error shape
    RequestMiddleware            request id, access log, body limits, text sanity, services
    ExceptionMiddleware          every error rendered as {"error", "message"}
    IndexedRoutingMiddleware     method + path -> operationId, from the merged spec (charter.router)
    UnroutedMiddleware           no operation: /openapi.json, /v1/openapi.json and /docs, else 404 / 405
    security                     the composition root's: credentials, tenant header, scopes
    CachedRequestValidation      parameters and body against the spec (validators built once)
    ResponseValidationMiddleware only when validate_responses (tests, development)
    LifespanMiddleware           every mounted API's lifespan hooks (background work)
    HandlerApp                   the operationId's function (sync, async or streaming), its answer written
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

import orjson
from connexion.apps.abstract import AbstractApp
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.spec import OpenAPISpecification

from charter import errors, formats, specs
from charter.api import Api, Lifespan, mounted
from charter.dispatch import HandlerApp, Runner
from charter.middleware import RequestMiddleware
from charter.router import IndexedRoutingMiddleware
from charter.routes import RouteTable, UnroutedMiddleware
from charter.runtime import Services
from charter.validation import CachedRequestValidationMiddleware

Security = Callable[..., Any]  # (app, *, services, spec) -> an ASGI middleware


class CharterApp(AbstractApp):
    """A Connexion app whose innermost layer is charter.dispatch.HandlerApp."""

    services: Services
    apis: list[Api]

    def __init__(self, import_name: str, *, runner: Runner, **kwargs: Any):
        self._middleware_app = HandlerApp(runner)
        super().__init__(import_name, **kwargs)

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        self._middleware_app.add_url_rule(rule, endpoint=endpoint, view_func=view_func, **options)

    def add_error_handler(self, code_or_exception, function) -> None:
        self.middleware.add_error_handler(code_or_exception, function)


def middlewares(
    services: Services, spec: dict, routes: RouteTable, validate_responses: bool, security: Security | None = None
) -> list:
    stack: list = [
        ServerErrorMiddleware,
        partial(RequestMiddleware, services=services),
        ExceptionMiddleware,
        IndexedRoutingMiddleware,
        partial(UnroutedMiddleware, table=routes),
    ]
    if security is not None:
        stack.append(partial(security, services=services, spec=spec))
    stack.append(CachedRequestValidationMiddleware)
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    return stack + [LifespanMiddleware]


def _lifespan(hooks: Sequence[Lifespan], services: Services) -> Callable[[Any], Any] | None:
    """Every hook entered at start-up, in order, and left at shutdown, in reverse."""
    if not hooks:
        return None

    @asynccontextmanager
    async def run(_app: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in hooks:
                await stack.enter_async_context(hook(services))
            yield

    return run


def _validate_once(original: Callable[[Any, dict], None]) -> Callable[[Any, dict], None]:
    """Connexion's check of a document against the OpenAPI schema, run once per process for each
    distinct document: it costs half a second on ours, and every app (each test's, say) over the
    same specs would repeat it. `charter check` validates the specs on their own as well."""
    done: set[bytes] = set()

    def validate(cls: Any, spec: dict) -> None:
        try:
            text = orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits: JSON allows it, orjson does not write it
            text = json.dumps(spec, sort_keys=True).encode()
        digest = hashlib.sha256(text).digest()
        if digest not in done:
            original(cls, spec)
            done.add(digest)

    return validate


OpenAPISpecification._validate_spec = classmethod(_validate_once(OpenAPISpecification._validate_spec.__func__))


def build_components(apis: Sequence[Api], services: Services) -> None:
    """Build each API's components into services.components (what `services.get(...)` finds)."""
    for api in apis:
        for component in api.build(services) if api.build else ():
            services.components[type(component)] = component


def create_app(
    apis: Sequence[Api],
    services: Services,
    *,
    security: Security | None = None,
    lifespans: Sequence[Lifespan] = (),
    validate_responses: bool = False,
) -> CharterApp:
    """Mount the APIs the settings name (every one when none) over `services`: each mounted API's
    components are built into services.components first."""
    formats.install()
    chosen = mounted(apis, services.settings.specs)
    build_components(chosen, services)
    spec = specs.load_merged([str(api.spec_path) for api in chosen])
    routes = RouteTable(spec)
    hooks = [*lifespans, *(api.lifespan for api in chosen if api.lifespan)]
    app = CharterApp(
        __name__,
        runner=services.runner,
        middlewares=middlewares(services, spec, routes, validate_responses, security),
        lifespan=_lifespan(hooks, services),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    app.add_api(spec, validate_responses=validate_responses, strict_validation=False)
    errors.install(app, routes)
    app.services = services
    app.apis = chosen
    return app
