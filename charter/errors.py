"""One error shape everywhere: {"error": "<stable_code>", "message": "<human text>"}.

Handlers raise ApiError; Connexion's own problems (validation, routing, media type) and any
unexpected exception are rendered in the same shape by the handlers registered here.
"""

from __future__ import annotations

import json
import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("charter.errors")

CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by handlers for any non-2xx answer the spec documents."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}


def body(status: int, message: str, code: str | None = None) -> bytes:
    return json.dumps({"error": code or CODES.get(status, "error"), "message": message}).encode()


# RFC 7235: a 401 carries a challenge naming how to authenticate.
CHALLENGE = 'Bearer realm="charter"'


def answer_headers(status: int, headers=None) -> dict:
    """The headers of an error answer: the ones given, and a 401's challenge (RFC 7235)."""
    headers = dict(headers or {})
    if status == 401 and not any(k.lower() == "www-authenticate" for k in headers):
        headers["WWW-Authenticate"] = CHALLENGE
    return headers


def _response(status: int, message: str, code: str | None = None, headers=None) -> ConnexionResponse:
    headers = answer_headers(status, headers)
    return ConnexionResponse(
        status_code=status,
        body=body(status, message, code),
        content_type="application/json",
        headers=headers,
    )


def _api_error(_request, exc: ApiError) -> ConnexionResponse:
    return _response(exc.status, exc.message, exc.code, exc.headers)


def _problem(_request, exc: ProblemException) -> ConnexionResponse:
    message = str(exc.detail or exc.title or "request failed")
    # jsonschema appends the failing schema and instance after a blank line: keep the summary.
    return _response(exc.status, message.split("\n\n", 1)[0], None, exc.headers)


def _http(routes):
    def handler(request, exc: HTTPException) -> ConnexionResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's router names only the methods of the first route that matched the path.
            allowed = routes.methods(request.url.path)
            headers["Allow"] = ", ".join(allowed)
            return _response(405, f"{request.method} is not allowed here; use {headers['Allow']}", None, headers)
        return _response(exc.status_code, str(exc.detail), None, headers)

    return handler


def _unexpected(_request, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error", exc_info=exc)
    return _response(500, "The server hit an unexpected error; it has been logged.")


def _store_unavailable(_request, exc) -> ConnexionResponse:
    log.error("store unavailable: %s", exc)
    return _response(503, "The store cannot be reached; try again shortly.", "store_unavailable")


def install(app, routes) -> None:
    """Render every error in the one shape; `routes` (charter.routes.RouteTable) names Allow."""
    from store.errors import Unavailable

    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(Unavailable, _store_unavailable)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http(routes))
    app.add_error_handler(Exception, _unexpected)
