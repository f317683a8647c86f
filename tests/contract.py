"""Every request and answer of the API tests, checked against the document the app serves, by an
independent validator (openapi-core), not by the Connexion code the server itself runs.

`CheckedClient` is the test client every in-process API test gets: tests/conftest.py puts it
behind Connexion's `app.test_client()`. It fetches `/openapi.json` from the app once, as the
client starts (the parsed document is shared by every client served the same bytes), and judges
each exchange:

- the request matches an operation: the answer's status must be declared for it (or `default`),
  its declared headers present and of their schema, its body of the declared media type and
  schema;
- the request breaks the document (a bad body, a missing credential, a parameter out of range):
  the server must refuse it with a 4xx, and that refusal is checked as above. Such refusals are
  counted, not failed: tests send them on purpose;
- the path or method is not in the document: only the unrouted answers (404, 405 in the error
  shape) and the documents themselves (`/openapi.json`, `/v1/openapi.json`, Swagger UI under
  `/docs`) may come back.

A mismatch fails the test that made the request, naming the operation and openapi-core's
message. A test that deliberately sends or expects what the document cannot describe wraps that
one request in `unchecked("why")`; the run's summary counts those.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from starlette.testclient import TestClient
from werkzeug.datastructures import Headers, ImmutableMultiDict

DOCUMENTS = ("/openapi.json", "/v1/openapi.json")
SWAGGER_UI = "/docs"  # and what lies under it
UNROUTED = (404, 405)

_documents: dict[str, OpenAPI] = {}
_skip: ContextVar[str | None] = ContextVar("contract_skip", default=None)
# What the run saw: checked pairs, refusals of requests the document forbids, explicit opt-outs.
tally: Counter[str] = Counter()
opt_outs: Counter[str] = Counter()
spent = [0.0]  # seconds spent judging, over the run


class ContractMismatch(AssertionError):
    """An answer (or a request the server took) that the served document does not allow."""


@contextmanager
def unchecked(reason: str) -> Iterator[None]:
    """Leave the requests made inside out of the check, for `reason` (counted in the summary)."""
    token = _skip.set(reason)
    try:
        yield
    finally:
        _skip.reset(token)


class _Request:
    """An httpx request as openapi-core reads one."""

    def __init__(self, request: httpx.Request):
        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode()}"
        self.path = url.path
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "").lower()
        cookies = SimpleCookie(request.headers.get("cookie", ""))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query.decode(), keep_blank_values=True)),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict({k: m.value for k, m in cookies.items()}),
        )


class _Response:
    """An httpx response as openapi-core reads one."""

    def __init__(self, response: httpx.Response):
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.multi_items()))
        self.content_type = response.headers.get("content-type", "").lower()
        self.data: bytes | None = response.content


def document(raw: bytes) -> OpenAPI:
    """The parsed (and itself validated) document for these served bytes, built once per run."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest not in _documents:
        _documents[digest] = OpenAPI.from_dict(json.loads(raw))
    return _documents[digest]


def _messages(errors: list[Exception]) -> str:
    lines = []
    for exc in errors:
        text = str(exc)
        lines.append(text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}")
        cause = exc.__cause__
        while cause is not None:
            for schema_error in getattr(cause, "schema_errors", ()) or ():
                where = "/".join(str(p) for p in schema_error.absolute_path) or "(root)"
                lines.append(f"  at {where}: {schema_error.message}")
            if not getattr(cause, "schema_errors", None):
                lines.append(f"  {type(cause).__name__}: {cause}")
            cause = cause.__cause__
    return "\n".join(lines)


def judge(spec: OpenAPI, request: httpx.Request, response: httpx.Response) -> str:
    """What the pair is ("checked", "refused", "unrouted", "document"); raises on a mismatch."""
    req, resp = _Request(request), _Response(response)
    operation = f"{request.method} {request.url.path} -> {response.status_code}"
    request_errors = list(spec.iter_request_errors(req))
    if any(isinstance(e, (PathNotFound, OperationNotFound)) for e in request_errors):
        path = request.url.path
        is_document = path in DOCUMENTS or path == SWAGGER_UI or path.startswith(SWAGGER_UI + "/")
        if is_document and response.status_code == 200:
            return "document"
        if response.status_code in UNROUTED and _is_error_body(response):
            return "unrouted"
        raise ContractMismatch(f"{operation}: no operation in the served document answers this")
    if request_errors and not 400 <= response.status_code < 500:
        raise ContractMismatch(
            f"{operation}: the served document forbids this request, yet the server did not refuse it\n"
            + _messages(request_errors)
        )
    response_errors = list(spec.iter_response_errors(req, resp))
    if response_errors:
        body = response.text[:500]
        raise ContractMismatch(
            f"{operation}: the answer breaks the served document\n{_messages(response_errors)}\n{body}"
        )
    return "refused" if request_errors else "checked"


def _is_error_body(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


class CheckedClient(TestClient):
    """Starlette's test client, with every exchange judged against the app's served document."""

    _spec: OpenAPI | None = None

    def __enter__(self) -> CheckedClient:
        super().__enter__()
        self._served()  # now, before the test's own requests (some count what the app logs)
        return self

    def send(self, request: httpx.Request, *args: Any, **kwargs: Any) -> httpx.Response:
        response = super().send(request, *args, **kwargs)
        reason = _skip.get()
        if reason is not None:
            opt_outs[reason] += 1
            return response
        if kwargs.get("stream"):
            response.read()
        began = time.perf_counter()
        try:
            tally[judge(self._served(), response.request, response)] += 1
        finally:
            spent[0] += time.perf_counter() - began
        return response

    def _served(self) -> OpenAPI:
        if self._spec is None:
            raw = super().send(self.build_request("GET", "/openapi.json"))
            assert raw.status_code == 200, f"the app serves no /openapi.json: {raw.status_code}"
            self._spec = document(raw.content)
        return self._spec


def export() -> dict:
    """This process's counts, for the process that reports the run (pytest-xdist's controller)."""
    return {"tally": dict(tally), "opt_outs": dict(opt_outs), "spent": spent[0]}


def absorb(counts: dict | None) -> None:
    """Add a worker's counts (export()) to this process's."""
    if counts:
        tally.update(counts["tally"])
        opt_outs.update(counts["opt_outs"])
        spent[0] += counts["spent"]


def summary() -> list[str]:
    """Lines for the run's terminal summary."""
    if not tally and not opt_outs:
        return []
    lines = [
        "contract check (openapi-core against the served /openapi.json): "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(tally.items()))
        + f", {sum(opt_outs.values())} opted out; {spent[0]:.1f} s spent judging"
    ]
    lines += [f"  opted out x{n}: {reason}" for reason, n in opt_outs.most_common()]
    return lines
