"""Requests no operation matches: the OpenAPI document and Swagger UI, else 404 or 405.

Right after Connexion's router, a request that matched no operation goes to Connexion's Swagger UI
app (`/openapi.json`, also at `/v1/openapi.json`, and `/docs`); what that does not serve answers
404, or 405 naming the methods the spec documents for the path, in the error shape. Routed
requests skip both, so the documentation routes cost an API call nothing. All of them are public.

The document served is the merged one as written, its `$ref`s and component names kept (what
clients are generated from), not the copy Connexion routes and validates with, in which every
`$ref` is resolved: Connexion's SwaggerUIAPI serves `Specification.spec`, the resolved form, and
RawDocumentAPI serves `Specification.raw` instead.
"""

from __future__ import annotations

import re

from connexion.middleware.abstract import SpecMiddleware
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from starlette.exceptions import HTTPException

from charter.specs import HTTP_METHODS

DOCUMENT = "/openapi.json"
VERSIONED_DOCUMENT = "/v1/openapi.json"


def specificity(template: str) -> tuple[bool, ...]:
    """Which of a path template's segments are literal, in order. Where several templates match a
    path, the greatest is the path's (OpenAPI: concrete paths match before templated ones), segment
    by segment from the left: /v1/tenants/by-slug/{slug} before /v1/tenants/{id}/cancel."""
    return tuple("{" not in segment for segment in template.strip("/").split("/"))


class RouteTable:
    def __init__(self, spec: dict):
        self._templates = [
            (
                re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
                specificity(path),
                sorted(m.upper() for m in item if m in HTTP_METHODS),
            )
            for path, item in (spec.get("paths") or {}).items()
        ]

    def methods(self, path: str) -> list[str]:
        """The documented methods of the path templates `path` is, the most literal that match:
        /v1/catalog/request is not /v1/catalog/{key}, and allows only what the first documents."""
        found: set[str] = set()
        best: tuple[bool, ...] | None = None
        for pattern, literal, methods in self._templates:
            if (best is None or literal >= best) and pattern.match(path):
                if best is None or literal > best:
                    best, found = literal, set()
                found.update(methods)
        return sorted(found)


class RawDocumentAPI(SwaggerUIAPI):
    """Connexion's document and Swagger UI routes, serving the document with its `$ref`s."""

    def __init__(self, *args, **kwargs):
        self._documents: dict[str, dict] = {}
        super().__init__(*args, **kwargs)

    def _spec_for_prefix(self, request) -> dict:
        # Connexion's own answers `.with_base_path(base_path).spec`, the same but resolved, and
        # clones (so validates and resolves) the spec on every request: here once per base path
        base_path = self._base_path_for_prefix(request)
        if base_path not in self._documents:
            self._documents[base_path] = self.specification.with_base_path(base_path).raw
        return self._documents[base_path]


class RawDocumentMiddleware(SwaggerUIMiddleware):
    """SwaggerUIMiddleware whose APIs are RawDocumentAPIs."""

    def add_api(self, specification, base_path=None, arguments=None, **kwargs) -> None:
        api = RawDocumentAPI(specification, base_path=base_path, arguments=arguments, default=self.default_fn, **kwargs)
        self.router.mount(api.base_path, app=api.router)


class UnroutedMiddleware(SpecMiddleware):
    def __init__(self, app, table: RouteTable):
        self.app = app
        self.table = table
        self.documents = RawDocumentMiddleware(self._not_routed)

    def add_api(self, specification, **kwargs) -> None:
        self.documents.add_api(specification, **kwargs)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            routing = (scope.get("extensions") or {}).get("connexion_routing") or {}
            if routing.get("operation_id") is None:
                if scope["path"] == VERSIONED_DOCUMENT:
                    scope = {**scope, "path": DOCUMENT, "raw_path": DOCUMENT.encode()}
                await self.documents(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _not_routed(self, scope, receive, send):
        allowed = self.table.methods(scope["path"])
        if scope["method"] in allowed:
            # The path fits a template but the router's typed segment (an integer, say) refused it.
            raise HTTPException(400, f"a path parameter of {scope['path']} does not have the type the spec gives it")
        if allowed:
            raise HTTPException(405)  # charter.errors names the Allow header
        raise HTTPException(404, f"no operation at {scope['path']}")
