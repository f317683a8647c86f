"""The outermost request layer: request id, API version, access log, body limits and text sanity.

It runs before Connexion's exception handling, so it answers its own 400/413 in the error shape
and sees every response, errors included: each carries X-Request-ID and X-API-Version.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid

from charter import errors, runtime
from charter.bodies import TooLarge, read_body, replaying

access_log = logging.getLogger("charter.access")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_JSON_TYPES = ("application/json", "+json")
_BODY_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE"}


def _bad_text(value) -> bool:
    """True when a decoded JSON value holds NUL or a lone surrogate (no database stores them)."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(v) for v in value)
    return False


def caller_of(scope, headers: dict) -> runtime.Caller:
    """Who is asking: the caller's X-Request-ID when it is sane (else a new one), address, agent."""
    incoming = headers.get(b"x-request-id", b"").decode("latin-1")
    client = scope.get("client")
    return runtime.Caller(
        request_id=incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex,
        source_ip=client[0] if client else None,
        user_agent=headers.get(b"user-agent", b"").decode("latin-1") or None,
        headers=headers,
    )


_STAMPED = frozenset({b"x-request-id", b"x-api-version"})


def stamping(send, request_id: str, status: list, api_version: str = "v1"):
    """`send` that sets X-Request-ID and X-API-Version on the response and records its status
    in status[0]."""
    stamps = [(b"x-request-id", request_id.encode()), (b"x-api-version", api_version.encode())]

    async def send_with_id(message):
        if message["type"] == "http.response.start":
            status[0] = message["status"]
            message = dict(message)
            message["headers"] = [
                *[(k, v) for k, v in message.get("headers", []) if k.lower() not in _STAMPED],
                *stamps,
            ]
        await send(message)

    return send_with_id


def log_access(scope, request_id: str, operation_id: str | None, status: int, started: float) -> None:
    """The access log's one JSON line for a finished request."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            json.dumps(
                {
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "operation_id": operation_id,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "pid": os.getpid(),
                }
            )
        )


class RequestMiddleware:
    def __init__(self, app, services: runtime.Services):
        self.app = app
        self.services = services
        self.limit = services.settings.max_body_bytes
        self.api_version = services.settings.api_version

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        who = caller_of(scope, headers)
        status = [500]
        send = stamping(send, who.request_id, status, self.api_version)
        # Connexion's router records the operationId in scope["extensions"]; making sure that dict
        # exists now means every shallow copy of the scope downstream shares it with us.
        extensions = scope.setdefault("extensions", {})
        tokens = runtime.bind(self.services, who)
        try:
            rejection, receive = await self._guard(scope, headers, receive)
            if rejection:
                await self._reject(send, *rejection)
            else:
                await self.app(scope, receive, send)
        finally:
            runtime.reset(tokens)
            routing = extensions.get("connexion_routing") or {}
            log_access(scope, who.request_id, routing.get("operation_id"), status[0], started)

    async def _guard(self, scope, headers, receive):
        """Return ((status, message), receive) to reject, or (None, receive) to go on."""
        if b"%00" in scope.get("query_string", b""):
            return (400, "NUL characters are not allowed in the URL"), receive
        if _CONTROL.search(scope.get("path", "")):
            # No route takes such a path, and the routers downstream need not agree on that.
            return (400, "control characters are not allowed in the URL path"), receive
        if scope.get("method", "").encode() not in _BODY_METHODS:
            return None, receive
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    return (413, f"request body exceeds {self.limit} bytes"), receive
            except ValueError:
                return (400, "Content-Length is not a number"), receive
        try:
            payload = await read_body(receive, self.limit)
        except TooLarge:
            return (413, f"request body exceeds {self.limit} bytes"), receive
        if not payload and b"content-type" not in headers:
            # An absent optional body: let the spec's JSON default stand in for it, rather than
            # handing the handler raw bytes.
            scope["headers"] = [*scope.get("headers", []), (b"content-type", b"application/json")]
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if payload and content_type.endswith(_JSON_TYPES):
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                return (400, "request body is not valid UTF-8"), receive
            if "\\u" in text:
                try:
                    if _bad_text(json.loads(text)):
                        return (400, "strings may not contain NUL or unpaired surrogates"), receive
                except ValueError:
                    pass  # malformed JSON: the validator reports it
        return None, replaying(receive, payload)

    @staticmethod
    async def _reject(send, status: int, message: str):
        content = errors.body(status, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})
