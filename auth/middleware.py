"""The security layer in the ASGI stack: auth.gate for every routed request, before validation.

Right after routing (which names the operationId), the gate decides whether the request's
credentials may call the operation; the principal it answers is bound for the handler
(charter.runtime.principal()) for the rest of the request. On a store that blocks, the check that
the token's session is still live runs on the handler's thread just before the handler
(charter.dispatch.BEFORE), rather than costing a hand-off of its own; a request that fails
validation first answers its 400 without it, which tells a revoked token nothing. Refusals are domain errors (401, 403,
429 by charter.errors' table), rendered in the error shape by the exception layer outside.
"""

from __future__ import annotations

from auth.gate import Gate
from charter import runtime
from charter.dispatch import BEFORE


class AuthMiddleware:
    def __init__(self, app, services: runtime.Services, spec: dict):
        self.app = app
        self.gate = Gate(services, spec)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routing = scope["extensions"].get("connexion_routing")
        if not routing or routing.get("operation_id") is None:
            await self.app(scope, receive, send)
            return
        headers = runtime.caller().headers or dict(scope.get("headers") or [])
        extensions = scope["extensions"]
        principal = await self.gate.admit(
            routing["operation_id"],
            scope["method"],
            scope["path"],
            headers,
            defer=lambda check: extensions.__setitem__(BEFORE, check),
        )
        if principal is None:
            await self.app(scope, receive, send)
            return
        token = runtime.bind_principal(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            runtime.reset_principal(token)
