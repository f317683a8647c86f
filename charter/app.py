"""The app factory: one Connexion FlaskApp serving the merged specs over one store."""
from __future__ import annotations

from typing import Iterable

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from auth.apikeys import KeyVerifier
from charter import errors, formats, runtime, specs
from charter.catalog import Catalog
from charter.config import Settings
from charter.middleware import RequestMiddleware
from charter.routes import RouteTable, UnroutedMiddleware


def create_app(
    names: Iterable[str] = (),
    *,
    settings: Settings | None = None,
    store=None,
    validate_responses: bool = False,
) -> connexion.FlaskApp:
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
    app = connexion.FlaskApp(
        __name__,
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    spec = specs.load_merged(names)
    app.add_api(
        spec,
        validate_responses=validate_responses,
        strict_validation=False,
    )
    routes = RouteTable(spec)
    errors.install(app, routes)
    app.add_middleware(RequestMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    app.add_middleware(UnroutedMiddleware, position=MiddlewarePosition.BEFORE_SECURITY, table=routes)
    app.services = services
    return app
