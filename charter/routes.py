"""Requests no operation matches: 404, or 405 naming the methods the spec documents for the path.

Connexion's router passes an unmatched request on to Flask, whose own router can disagree (a
newline in a segment, `//` or a trailing slash) and call a view without Connexion's context.
Answering here, right after Connexion's router, keeps every such request in the error shape.
"""
from __future__ import annotations

import re

from starlette.exceptions import HTTPException

from charter.specs import HTTP_METHODS


class RouteTable:
    def __init__(self, spec: dict):
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
             sorted(m.upper() for m in item if m in HTTP_METHODS))
            for path, item in (spec.get("paths") or {}).items()
        ]

    def methods(self, path: str) -> list[str]:
        """Every documented method of every path template that matches `path`."""
        found = set()
        for pattern, methods in self._templates:
            if pattern.match(path):
                found.update(methods)
        return sorted(found)


class UnroutedMiddleware:
    def __init__(self, app, table: RouteTable):
        self.app = app
        self.table = table

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            routing = (scope.get("extensions") or {}).get("connexion_routing") or {}
            if routing.get("operation_id") is None:
                allowed = self.table.methods(scope["path"])
                if allowed:
                    raise HTTPException(405)  # charter.errors names the Allow header
                raise HTTPException(404, f"no operation at {scope['path']}")
        await self.app(scope, receive, send)
