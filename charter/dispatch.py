"""The innermost ASGI app: call the handler an operationId names and write its answer.

Connexion resolves every operationId to its function at start-up; this app replaces the Flask
(WSGI, a2wsgi thread hand-off) and Starlette decorator layers with one call per request:

- arguments come from what charter.validation already parsed (path, query, body), mapped to the
  handler's parameters by Connexion's own rules (`get_arguments`), so handlers keep their shape;
- a plain handler runs on the event loop when the store never blocks (the memory store), and on
  a small thread pool when it does (SQLite, PostgreSQL), with the request's context variables;
  an `async def` handler always runs on the event loop (what it awaits must not block);
- a handler with a parameter named `raw_body` gets the request body's exact bytes too (a signed
  webhook's signature is over them, not over the parsed JSON);
- the answer (a dict, a `(body, status)` or `(body, status, headers)` tuple, or NoContent) is
  written as JSON with orjson; a charter.streaming.Stream is written chunk by chunk as it comes.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import typing as t
from concurrent.futures import ThreadPoolExecutor

import orjson
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp
from connexion.datastructures import NoContent
from connexion.decorators.parameter import get_arguments, sanitized, unwrap_decorators
from connexion.lifecycle import ConnexionResponse
from connexion.utils import inspect_function_arguments
from starlette.responses import Response as StarletteResponse
from starlette.responses import StreamingResponse

from charter import idempotency, runtime
from charter.bodies import read_body
from charter.streaming import Stream
from charter.validation import parsed

# scope["extensions"][BEFORE]: a check an outer layer wants run in the handler's turn, just before
# it (say, a store read that may refuse the request), so that it costs no hand-off of its own.
BEFORE = "charter_before_handler"
RAW_BODY = "raw_body"


class Runner:
    """Where handlers run: inline on the loop (threads=0) or on a pool of `threads` threads."""

    def __init__(self, threads: int):
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="handler") if threads else None

    async def call(self, fn, kwargs: dict, before=None):
        """fn(**kwargs), after before() when given, which may raise to refuse the call."""
        if self._pool is None:
            return _after(before, fn, kwargs)
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(ctx.run, _after, before, fn, kwargs))


def _after(before, fn, kwargs: dict):
    if before is not None:
        before()
    return fn(**kwargs)


class HandlerOperation:
    def __init__(self, operation, runner: Runner):
        self._operation = operation
        self._fn = operation.function
        self._async = inspect.iscoroutinefunction(unwrap_decorators(self._fn))
        self._runner = runner
        self.operation_id = operation.operation_id
        self._arguments, self._has_kwargs = inspect_function_arguments(unwrap_decorators(self._fn))
        self._body_defined = operation.is_request_body_defined
        produces = list(operation.produces or ["application/json"])
        json_types = [m for m in produces if _is_json(m)]
        self._json = bool(json_types)
        self._media = (json_types or produces)[0].encode("latin-1")
        self._keyed = not self._async and idempotency.takes_key({"parameters": operation.parameters})

    def _kwargs(self, scope, found: dict, raw_body) -> dict:
        kwargs = get_arguments(
            self._operation,
            path_params=found.get("path") or {},
            query_params=found.get("query") or {},
            body=found["body"] if "body" in found else raw_body,
            files={},
            arguments=self._arguments,
            has_kwargs=self._has_kwargs,
            sanitize=sanitized,
            content_type=found.get("media_type", "application/json"),
        )
        if RAW_BODY in self._arguments:
            kwargs[RAW_BODY] = found.get("raw", raw_body) or b""
        context = scope["extensions"].get("connexion_context")
        if context:
            for key, value in context.items():
                if self._has_kwargs or key in self._arguments:
                    kwargs[key] = value
        return kwargs

    async def __call__(self, scope, receive, send):
        found = parsed(scope)
        raw_body = None
        if self._body_defined and "body" not in found:
            raw_body = await read_body(receive) or None
        kwargs = self._kwargs(scope, found, raw_body)
        before = scope["extensions"].get(BEFORE)
        key = _header(scope, idempotency.HEADER_KEY) if self._keyed else None
        if key is not None:
            await self._keyed_call(scope, send, key, found.get("body", raw_body), kwargs, before)
            return
        if self._async:
            if before is not None:
                await self._runner.call(before, {})
            result = await self._fn(**kwargs)
        else:
            result = await self._runner.call(self._fn, kwargs, before)
        if isinstance(result, Stream):
            response = StreamingResponse(
                result.chunks, status_code=result.status, headers=dict(result.headers), media_type=result.media_type
            )
            await response(scope, receive, send)
            return
        if isinstance(result, (StarletteResponse, ConnexionResponse)):
            await _send_framework(result, scope, receive, send)
            return
        status, headers, body = self._render(result)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _keyed_call(self, scope, send, key: str, body, kwargs: dict, before) -> None:
        """The handler under its Idempotency-Key (charter.idempotency): run once, or replayed."""
        keeper = runtime.services().get(idempotency.Keeper)

        def run() -> idempotency.Answer:
            query = scope.get("query_string", b"")
            fingerprint = idempotency.fingerprint(scope["method"], scope["path"], query, body, runtime.actor())
            return keeper.run(key, fingerprint, lambda: idempotency.handled(lambda: self._answer(kwargs)))

        answer = await self._runner.call(run, {}, before)
        headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _answer(self, kwargs: dict) -> idempotency.Answer:
        result = self._fn(**kwargs)
        if isinstance(result, (Stream, StarletteResponse, ConnexionResponse)):
            raise TypeError(f"{self.operation_id} takes an Idempotency-Key, so it must answer JSON, not a stream")
        status, headers, body = self._render(result)
        return idempotency.Answer(status, idempotency.kept_headers(headers), body)

    def _render(self, result) -> tuple[int, list, bytes]:
        data, status, extra = _unpack(result)
        headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in extra.items()]
        if data is None or data is NoContent:
            body = b""
            status = status or 204
        else:
            status = status or 200
            if isinstance(data, bytes):
                body = data
            elif self._json:
                body = _dumps(data)
            else:
                body = str(data).encode()
            if not any(k == b"content-type" for k, _ in headers):
                headers.append((b"content-type", self._media))
        headers.append((b"content-length", str(len(body)).encode()))
        return status, headers, body


def _header(scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _dumps(data) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # an integer beyond 64 bits, which JSON allows and orjson does not write
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _unpack(result) -> tuple[t.Any, int | None, dict]:
    """A handler's return value as (data, status or None, headers), as Connexion reads it."""
    if not isinstance(result, tuple):
        return result, None, {}
    if len(result) == 3:
        data, status, headers = result
        return data, int(status), dict(headers or {})
    if len(result) == 2:
        data, second = result
        if isinstance(second, int):
            return data, second, {}
        return data, None, dict(second or {})
    return result[0], None, {}


async def _send_framework(response, scope, receive, send) -> None:
    if isinstance(response, ConnexionResponse):
        body = response.body
        if not isinstance(body, (bytes, str)) and body is not None:
            body = json.dumps(body)
        response = StarletteResponse(
            content=body,
            status_code=response.status_code,
            media_type=response.mimetype or response.content_type,
            headers=response.headers,
        )
    await response(scope, receive, send)


class HandlerApi(AsyncApi):
    def __init__(self, *args, runner: Runner, **kwargs):
        self._runner = runner
        super().__init__(*args, **kwargs)

    def make_operation(self, operation):
        return HandlerOperation(operation, self._runner)


class HandlerApp(AsyncASGIApp):
    """Connexion's routed app, its operations being HandlerOperations."""

    api_cls = HandlerApi

    def __init__(self, runner: Runner):
        self._runner = runner
        super().__init__()

    def add_api(self, *args, **kwargs):
        return super().add_api(*args, runner=self._runner, **kwargs)
