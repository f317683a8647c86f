"""Routing that tries only the routes a path can match, by its leading literal segments.

Connexion adds one Starlette Route per operation and Starlette tries them in order, each a regular
expression: the cost of routing grows with every operation any spec adds, and an operation late
in the merged document pays for all before it. IndexedRouter keeps Starlette's routes and their
matching, but first narrows them to those whose leading literal segments fit the request's path
(`/v1/tenants/{id}` is tried only for paths starting /v1/tenants), the most literal first and
otherwise in their original order. A concrete path takes precedence over a templated one, as
OpenAPI says: when `/v1/catalog/request` (POST) and `/v1/catalog/{key}` (GET) both match, the
path is the first one's, so a GET there is no operation (405, Allow: POST), not a product
named "request". When no route matches at all, the request goes through Starlette's own router,
so its default answer stays Starlette's.
"""

from __future__ import annotations

from connexion.middleware.routing import RoutingMiddleware
from starlette._utils import get_route_path
from starlette.routing import Match, Mount, Route, Router

from charter.routes import specificity

_DEPTH = 2  # literal segments an index key holds at most


def _literal_prefix(route) -> tuple[str, ...] | None:
    """The route path's leading segments before its first parameter, at most _DEPTH of them; None
    for what the index cannot reason about (not a plain Route)."""
    if not isinstance(route, Route):
        return None
    literal = []
    for segment in route.path.strip("/").split("/")[:_DEPTH]:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


class IndexedRouter:
    """An ASGI app over a Starlette Router's routes; see the module docstring."""

    def __init__(self, router: Router):
        self.router = router
        prefixes = [_literal_prefix(route) for route in router.routes]
        self._exhaustive = any(p is None for p in prefixes)
        keys = {p for p in prefixes if p} | {p[:1] for p in prefixes if p}
        # A path whose first segments are `key` can match a route only if the route's literal
        # prefix is a prefix of `key` (the empty one included). Keys are "v1/tenants" strings.
        self._literal = {id(r): specificity(r.path) for r in router.routes if isinstance(r, Route)}

        def most_literal_first(routes: list) -> list:
            return sorted(routes, key=lambda r: self._literal[id(r)], reverse=True)  # stable: else in order

        self._by_key = {
            "/".join(key): most_literal_first(
                [r for r, p in zip(router.routes, prefixes, strict=False) if p is not None and key[: len(p)] == p]
            )
            for key in keys
        }
        self._rootless = most_literal_first([r for r, p in zip(router.routes, prefixes, strict=False) if p == ()])

    @property
    def default(self):
        return self.router.default

    @default.setter
    def default(self, app) -> None:  # Connexion chains a second API under the same base path here
        self.router.default = app

    def candidates(self, path: str) -> list:
        """The routes `path` may match, the most literal first, else in their original order."""
        head = path.split("/", _DEPTH + 1)  # "/v1/tenants/x" -> ["", "v1", "tenants", "x"]
        if len(head) > 2:
            found = self._by_key.get(f"{head[1]}/{head[2]}")
            if found is not None:
                return found
        found = self._by_key.get(head[1]) if len(head) > 1 else None
        return self._rootless if found is None else found

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not self._exhaustive:
            level = None  # the specificity of the most literal route whose path matched
            for route in self.candidates(get_route_path(scope)):
                literal = self._literal[id(route)]
                if level is not None and literal < level:
                    break  # a less literal template: the path is not its
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
                if match is Match.PARTIAL and level is None:
                    level = literal
            if level is not None:  # the path's own routes take other methods: no operation (405)
                await self.router.default(scope, receive, send)
                return
        await self.router(scope, receive, send)


class IndexedRoutingMiddleware(RoutingMiddleware):
    """Connexion's routing middleware, each API's routes behind an IndexedRouter.

    No router redirects a path with or without its trailing slash: Starlette would answer 307
    with a Location built from the request's Host header, which a client may set to any host.
    Such a path is simply not an operation's (404)."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.router.redirect_slashes = False

    def add_api(self, *args, **kwargs) -> None:
        super().add_api(*args, **kwargs)
        mount = self.router.routes[-1]  # the Mount super() just added for this API
        if isinstance(mount, Mount) and isinstance(mount.app, Router):
            mount.app.redirect_slashes = False
            mount.app = IndexedRouter(mount.app)
