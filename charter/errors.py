"""One error shape everywhere: {"error": "<stable_code>", "message": "<human text>"}.

Services raise domain errors (charter.domain); STATUS maps each kind to its HTTP status, in this
one table. The spine's own layers raise ApiError for what only HTTP knows (a missing body, say).
Connexion's problems (validation, routing, media type) and any unexpected exception are
rendered in the same shape by the handlers registered here.
"""

from __future__ import annotations

import json
import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException

from charter import domain

log = logging.getLogger("charter.errors")

CODES = {
    400: "invalid_input",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    422: "unprocessable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


# Domain error kinds -> status. The most specific kind in an error's class hierarchy wins.
STATUS: dict[type[domain.DomainError], int] = {
    domain.Invalid: 400,
    domain.Unauthorized: 401,
    domain.PaymentRequired: 402,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.RateLimited: 429,
    domain.Unavailable: 503,
}


def status_of(exc: domain.DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


class ApiError(Exception):
    """Any non-2xx answer the spec documents, with its status, code and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict | None = None,
        details: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.headers = headers or {}
        self.details = details or {}  # more fields of the error body (a tier cap's upgrade_url)

    @classmethod
    def of(cls, exc: domain.DomainError, headers: dict | None = None) -> ApiError:
        """The answer a domain error gets (a handler adding headers to it, say a cleared cookie)."""
        extra = dict(headers or {})
        if isinstance(exc, domain.RateLimited):
            extra.setdefault("Retry-After", str(exc.retry_after))
        details = exc.details if isinstance(exc, domain.PaymentRequired) else None
        return cls(status_of(exc), exc.message, exc.code, extra, details)


def body(status: int, message: str, code: str | None = None, details: dict | None = None) -> bytes:
    return json.dumps({**(details or {}), "error": code or CODES.get(status, "error"), "message": message}).encode()


# RFC 7235: a 401 carries a challenge naming how to authenticate.
CHALLENGE = 'Bearer realm="charter"'


def answer_headers(status: int, headers=None) -> dict:
    """The headers of an error answer: the ones given, and a 401's challenge (RFC 7235)."""
    headers = dict(headers or {})
    if status == 401 and not any(k.lower() == "www-authenticate" for k in headers):
        headers["WWW-Authenticate"] = CHALLENGE
    return headers


def rendered(exc: BaseException) -> tuple[int, dict, bytes] | None:
    """(status, headers, body) of the answer a handler's error gets, when it is a 4xx: a domain
    error, an ApiError or a Connexion problem. None for anything else (the unexpected, the store
    unreachable), which is not an answer a handler gave."""
    if isinstance(exc, domain.DomainError) and not isinstance(exc, domain.Unavailable):
        exc = ApiError.of(exc)
    details = None
    if isinstance(exc, ApiError):
        status, message, code, headers, details = exc.status, exc.message, exc.code, exc.headers, exc.details
    elif isinstance(exc, ProblemException):
        status, message, code, headers = exc.status, _summary(exc), None, exc.headers
    else:
        return None
    if not 400 <= status < 500:
        return None
    return status, answer_headers(status, headers), body(status, message, code, details)


def _summary(exc: ProblemException) -> str:
    # jsonschema appends the failing schema and instance after a blank line: keep the summary.
    return str(exc.detail or exc.title or "request failed").split("\n\n", 1)[0]


def _response(
    status: int, message: str, code: str | None = None, headers=None, details: dict | None = None
) -> ConnexionResponse:
    headers = answer_headers(status, headers)
    return ConnexionResponse(
        status_code=status,
        body=body(status, message, code, details),
        content_type="application/json",
        headers=headers,
    )


def _api_error(_request, exc: ApiError) -> ConnexionResponse:
    return _response(exc.status, exc.message, exc.code, exc.headers, exc.details)


def _problem(_request, exc: ProblemException) -> ConnexionResponse:
    return _response(exc.status, _summary(exc), None, exc.headers)


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


def _domain(_request, exc: domain.DomainError) -> ConnexionResponse:
    if isinstance(exc, domain.Unavailable):
        log.error("unavailable: %s", exc)
        return _response(503, "The store cannot be reached; try again shortly.", exc.code)
    return _api_error(_request, ApiError.of(exc))


def install(app, routes) -> None:
    """Render every error in the one shape; `routes` (charter.routes.RouteTable) names Allow."""
    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(domain.DomainError, _domain)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http(routes))
    app.add_error_handler(Exception, _unexpected)
