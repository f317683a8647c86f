"""The outermost request layer: request id, API version, access log, the caller's address, header
and body limits, and text sanity.

It runs before Connexion's exception handling, so it answers its own 400/413/415/431 in the error
shape and sees every response, errors included: each carries X-Request-ID and X-API-Version. An
exception nothing below answered still gets a 500 in the error shape, with its request id.

The caller's address is the socket peer's, unless the peer is one of CHARTER_TRUSTED_PROXIES:
then it is the last address in X-Forwarded-For that is not a trusted proxy. Nothing else in a
request can choose it (it keys the per-address rate limits and is written into audit rows).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable

from charter import errors, jsonbody, runtime
from charter.bodies import TooLarge, read_body, replaying

access_log = logging.getLogger("charter.access")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_JSON_TYPES = ("application/json", "+json")
_BODY_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE"}


def _bad_text(value) -> bool:
    """True when a decoded JSON value holds a lone surrogate: not Unicode text (I-JSON, RFC 7493),
    which no database stores. (NUL is text: where a field may not hold it, its schema says so.)"""
    if isinstance(value, str):
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(spec: str) -> tuple[Network, ...]:
    """CHARTER_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges; SystemExit when malformed."""
    found = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise SystemExit(f"CHARTER_TRUSTED_PROXIES: {item!r} is not an address or a CIDR range") from None
    return tuple(found)


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(scope, headers: dict, proxies: tuple[Network, ...] = ()) -> str | None:
    """The socket peer, or behind trusted proxies the address they say they were reached from."""
    client = scope.get("client")
    peer = client[0] if client else None
    if peer is None or not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = headers.get(b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",")]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy we trust wrote something that is no address: use it, not that
    return hops[0] or peer


def caller_of(scope, headers: dict, proxies: tuple[Network, ...] = ()) -> runtime.Caller:
    """Who is asking: the caller's X-Request-ID when it is sane (else a new one), address, agent."""
    incoming = headers.get(b"x-request-id", b"").decode("latin-1")
    return runtime.Caller(
        request_id=incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex,
        source_ip=client_address(scope, headers, proxies),
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
        settings = services.settings
        self.limit = settings.max_body_bytes
        self.api_version = settings.api_version
        self.max_depth = settings.max_json_depth
        self.max_headers = settings.max_headers
        self.max_header_bytes = settings.max_header_bytes
        self.proxies = networks(settings.trusted_proxies)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        raw_headers = scope.get("headers") or []
        headers = dict(raw_headers)
        who = caller_of(scope, headers, self.proxies)
        status = [0]
        send = stamping(send, who.request_id, status, self.api_version)
        # Connexion's router records the operationId in scope["extensions"]; making sure that dict
        # exists now means every shallow copy of the scope downstream shares it with us.
        extensions = scope.setdefault("extensions", {})
        tokens = runtime.bind(self.services, who)
        try:
            rejection = self._over_header_limits(raw_headers)
            if rejection is None:
                rejection, receive = await self._guard(scope, headers, receive)
            if rejection:
                await self._reject(send, *rejection)
            else:
                await self.app(scope, receive, send)
        except Exception:
            # Whatever escaped every layer below: logged, and answered in the error shape (with the
            # request id) unless an answer has begun.
            errors.log.exception("unhandled error")
            if not status[0]:
                await self._reject(send, 500, "The server hit an unexpected error; it has been logged.")
        finally:
            runtime.reset(tokens)
            routing = extensions.get("connexion_routing") or {}
            log_access(scope, who.request_id, routing.get("operation_id"), status[0] or 500, started)

    def _over_header_limits(self, raw_headers: list) -> tuple[int, str] | None:
        if len(raw_headers) > self.max_headers:
            return 431, f"a request may carry at most {self.max_headers} header fields"
        if sum(len(k) + len(v) for k, v in raw_headers) > self.max_header_bytes:
            return 431, f"the request's header fields exceed {self.max_header_bytes} bytes"
        return None

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
        media_type, _, parameters = headers.get(b"content-type", b"").decode("latin-1").partition(";")
        if media_type.strip().lower().endswith(_JSON_TYPES):
            refused = self._json_refusal(payload, parameters)
            if refused:
                return refused, receive
        return None, replaying(receive, payload)

    def _json_refusal(self, payload: bytes, parameters: str) -> tuple[int, str] | None:
        """Why a JSON body is refused before anything parses it, or None."""
        charset = _charset(parameters)
        if charset not in (None, "utf-8", "utf8"):
            return 415, f"JSON is UTF-8 (RFC 8259): send charset=utf-8 or none, not {charset}"
        if not payload:
            return None
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return 400, "request body is not valid UTF-8"
        if jsonbody.too_deep(text, self.max_depth):
            return 400, f"JSON nested deeper than {self.max_depth} levels"
        if "\\u" in text:
            try:
                if _bad_text(jsonbody.loads(text)):
                    return (
                        400,
                        "strings may not contain unpaired surrogates (\\ud800-\\udfff): JSON text is I-JSON (RFC 7493)",
                    )
            except jsonbody.Refused:
                pass  # the validator reports it, with the spec's rules
        return None

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


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None
