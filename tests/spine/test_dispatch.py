"""Charter's handler app (charter.dispatch) through the spine's real app, on an API of its own.

The operations below are bound to the functions of this module, registered as one charter.api.Api
and mounted by charter.app.create_app alone (no composition root, no security layer: the spine
stands by itself). They cover what handlers may return (streams included), how arguments reach
them, where they run (on the event loop for a store that never blocks or an `async def` handler,
on the handler threads otherwise, with the request's context either way), and lifespan hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import httpx
import pytest
import yaml
from connexion import NoContent
from connexion.lifecycle import ConnexionResponse

from charter import app as spine
from charter import runtime
from charter.api import Api
from charter.config import Settings
from charter.dispatch import Runner
from charter.streaming import Stream, server_sent
from store.memory import MemoryStore
from tests.contract import unchecked
from tools.server import running

HERE = "tests.spine.test_dispatch"

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "dispatch", "version": "1"},
    "paths": {
        "/healthz": {
            "get": {"operationId": f"{HERE}.healthz", "security": [], "responses": {"200": {"description": "ok"}}}
        },
        "/items/{item_id}": {
            "post": {
                "operationId": f"{HERE}.echo",
                "security": [],
                "parameters": [
                    {"in": "path", "name": "item_id", "required": True, "schema": {"type": "integer"}},
                    {"in": "query", "name": "limit", "schema": {"type": "integer", "default": 7}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
                },
            },
        },
        "/created": {
            "get": {"operationId": f"{HERE}.created", "security": [], "responses": {"201": {"description": "ok"}}}
        },
        "/nothing": {
            "delete": {"operationId": f"{HERE}.nothing", "security": [], "responses": {"204": {"description": "gone"}}}
        },
        "/big": {"get": {"operationId": f"{HERE}.big", "security": [], "responses": {"200": {"description": "ok"}}}},
        "/framework": {
            "get": {"operationId": f"{HERE}.framework", "security": [], "responses": {"202": {"description": "ok"}}}
        },
        "/where": {
            "get": {"operationId": f"{HERE}.where", "security": [], "responses": {"200": {"description": "ok"}}}
        },
        "/slow": {"get": {"operationId": f"{HERE}.slow", "security": [], "responses": {"200": {"description": "ok"}}}},
        "/async": {
            "get": {"operationId": f"{HERE}.waiting", "security": [], "responses": {"200": {"description": "ok"}}}
        },
        "/download": {
            "get": {
                "operationId": f"{HERE}.download",
                "security": [],
                "responses": {
                    "200": {
                        "description": "a file",
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
            }
        },
        "/events": {
            "get": {
                "operationId": f"{HERE}.events",
                "security": [],
                "responses": {
                    "200": {
                        "description": "an event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/things/{name}": {
            "get": {
                "operationId": f"{HERE}.thing",
                "security": [],
                "parameters": [{"in": "path", "name": "name", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            },
        },
        "/things/special": {
            "post": {"operationId": f"{HERE}.special", "security": [], "responses": {"200": {"description": "ok"}}}
        },
        "/ticks": {
            "get": {"operationId": f"{HERE}.ticks", "security": [], "responses": {"200": {"description": "ok"}}}
        },
    },
}


def healthz():
    return {"status": "ok"}


def echo(item_id, body, limit):
    return {"item_id": item_id, "limit": limit, "body": body}


def created():
    return {"made": True}, 201, {"Location": "/items/1"}


def nothing():
    return NoContent, 204


def big():
    return {"n": 2**70}


def framework():
    return ConnexionResponse(status_code=202, body="queued", content_type="text/plain", headers={"X-Job": "7"})


def where():
    return {"thread": threading.current_thread().name, "request_id": runtime.caller().request_id}


def slow():
    time.sleep(0.5)
    return {"slept": True}


async def waiting():
    await asyncio.sleep(0)
    return {"thread": threading.current_thread().name, "request_id": runtime.caller().request_id}


RELEASE = threading.Event()  # the download's second chunk waits for the client to have the first


def download():
    def chunks():
        yield b"first chunk\n"
        if not RELEASE.wait(5):
            yield b"the first chunk was not delivered before the second was made\n"
        yield b"second chunk\n"

    return Stream(chunks(), headers={"Content-Disposition": 'attachment; filename="two.txt"'})


async def events():
    request_id = runtime.caller().request_id

    async def stream():
        for n in range(3):
            await asyncio.sleep(0)
            yield server_sent(f"tick {n}\nof {request_id}", event="tick", id=str(n))

    return Stream(stream(), media_type="text/event-stream")


TICKS: list[int] = []  # what the lifespan's background task counted


def thing(name):
    return {"thing": name}


def special():
    return {"special": True}


def ticks():
    return {"ticks": len(TICKS)}


@contextlib.asynccontextmanager
async def ticking(services):
    """A lifespan hook: background work for as long as the app runs."""
    assert services.store is not None

    async def work():
        while True:
            TICKS.append(1)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(work())
    try:
        yield
    finally:
        task.cancel()
        TICKS.append(-1)  # the hook's shutdown ran


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "dispatch.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return path


def _app(spec_file, threads: int, lifespan=None):
    settings = Settings(database_url="memory://", threads=threads)
    store = MemoryStore()
    services = runtime.Services(store, settings, Runner(settings.handler_threads(store)))
    return spine.create_app([Api("dispatch", HERE, spec=spec_file, lifespan=lifespan)], services)


@pytest.mark.parametrize("threads", [0, 2])
def test_an_async_handler_runs_on_the_event_loop(spec_file, threads):
    with _app(spec_file, threads).test_client() as c:
        r = c.get("/async", headers={"x-request-id": "async-1"})
    assert r.status_code == 200
    assert r.json()["request_id"] == "async-1"
    assert not r.json()["thread"].startswith("handler")


@pytest.mark.parametrize("threads", [0, 2])
def test_a_download_streams_chunk_by_chunk_over_real_http(spec_file, threads):
    RELEASE.clear()
    with running(_app(spec_file, threads)) as base, httpx.stream("GET", f"{base}/download", timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"] == 'attachment; filename="two.txt"'
        assert "content-length" not in r.headers  # chunked: the body was not gathered first
        chunks = r.iter_bytes()
        assert next(chunks) == b"first chunk\n"  # before the handler has made the second
        RELEASE.set()
        assert b"".join(chunks) == b"second chunk\n"
        assert r.headers["x-request-id"]  # the request layer stamps streams too


def test_an_event_stream(spec_file):
    with running(_app(spec_file, 2)) as base:
        with httpx.stream("GET", f"{base}/events", headers={"x-request-id": "sse-1"}, timeout=10) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            text = r.read().decode()
    assert text.count("event: tick\n") == 3
    assert "id: 2\ndata: tick 2\ndata: of sse-1\n\n" in text


def test_lifespan_hooks_start_and_stop_background_work(spec_file):
    TICKS.clear()
    with _app(spec_file, 0, lifespan=ticking).test_client() as c:
        time.sleep(0.1)
        assert c.get("/ticks").json()["ticks"] >= 3
    assert TICKS[-1] == -1  # stopped at shutdown
    stopped = len(TICKS)
    time.sleep(0.05)
    assert len(TICKS) == stopped


def test_a_concrete_path_takes_precedence_over_a_templated_one(spec_file):
    """/things/special is its own path (POST only), not /things/{name} with name "special"; the
    specs list the templated path first, so order alone would get it wrong."""
    with _app(spec_file, 0).test_client() as c:
        assert c.get("/things/other").json() == {"thing": "other"}
        assert c.post("/things/special").json() == {"special": True}
        for method in ("GET", "OPTIONS", "DELETE"):
            # openapi-core falls back to GET /things/{name}, where OpenAPI has the concrete path match
            fallback = unchecked("a concrete path's missing method, which openapi-core takes from the templated path")
            with fallback if method == "GET" else contextlib.nullcontext():
                r = c.request(method, "/things/special")
            assert r.status_code == 405 and r.headers["allow"] == "POST", (method, r.status_code, r.headers)
            assert r.json()["error"] == "method_not_allowed"
        r = c.post("/things/other")
        assert r.status_code == 405 and r.headers["allow"] == "GET"


def test_arguments_are_coerced_and_defaulted(spec_file):
    with _app(spec_file, 0).test_client() as c:
        r = c.post("/items/42", json={"name": "x"})
        assert r.status_code == 200
        assert r.json() == {"item_id": 42, "limit": 7, "body": {"name": "x"}}
        assert c.post("/items/42?limit=3", json={"name": "x"}).json()["limit"] == 3
        assert c.post("/items/nope", json={"name": "x"}).status_code == 400
        assert c.post("/items/42", json={}).status_code == 400
        # JSON is UTF-8 (RFC 8259): another charset is a 415, a body that is not UTF-8 is a 400
        r = c.post(
            "/items/42", content='{"name": "é"}'.encode(), headers={"content-type": "application/json; charset=utf-8"}
        )
        assert r.json()["body"] == {"name": "é"}
        for charset in ("latin-1", "no-such-charset"):
            r = c.post(
                "/items/42",
                content='{"name": "é"}'.encode(),
                headers={"content-type": f"application/json; charset={charset}"},
            )
            assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
        r = c.post("/items/42", content='{"name": "é"}'.encode("latin-1"), headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_input"


def test_answers_in_every_shape(spec_file):
    with _app(spec_file, 0).test_client() as c:
        r = c.get("/created")
        assert (r.status_code, r.json(), r.headers["location"]) == (201, {"made": True}, "/items/1")
        assert r.headers["content-type"] == "application/json"
        r = c.delete("/nothing")
        assert (r.status_code, r.content) == (204, b"")
        assert "content-type" not in r.headers
        r = c.get("/framework")  # a response object is sent as it is
        assert (r.status_code, r.text, r.headers["x-job"]) == (202, "queued", "7")
        assert r.headers["content-type"].startswith("text/plain")
        r = c.get("/big")  # JSON allows integers beyond 64 bits
        assert r.status_code == 200 and r.json() == {"n": 2**70}


@pytest.mark.parametrize("threads", [0, 2])
def test_handlers_run_where_the_store_allows_with_the_request_context(spec_file, threads):
    with _app(spec_file, threads).test_client() as c:
        r = c.get("/where", headers={"x-request-id": "ctx-1"})
    assert r.json()["request_id"] == "ctx-1"
    assert r.json()["thread"].startswith("handler") == bool(threads)


def test_the_store_decides_by_default():
    assert Settings(database_url="memory://").handler_threads(MemoryStore()) == 0
    assert Settings(database_url="sqlite:///x.db").handler_threads(object()) > 0
    assert Settings(database_url="memory://", threads=3).handler_threads(MemoryStore()) == 3


def test_a_slow_handler_on_threads_does_not_hold_up_others(spec_file):
    async def race(base):
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            slow_call = asyncio.create_task(c.get("/slow"))
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            quick = await c.get("/healthz")
            quick_s = time.perf_counter() - started
            assert (await slow_call).json() == {"slept": True}
            return quick.status_code, quick_s

    with running(_app(spec_file, 2)) as base:
        status, seconds = asyncio.run(race(base))
    assert status == 200 and seconds < 0.3


def test_runner_keeps_context_on_threads():
    runner = Runner(1)
    seen = {}

    def handler(x):
        seen["caller"] = runtime.caller().request_id
        seen["thread"] = threading.current_thread().name
        return x * 2

    async def go():
        tokens = runtime.bind(None, runtime.Caller("rid-7", None, None))
        try:
            return await runner.call(handler, {"x": 21})
        finally:
            runtime.reset(tokens)

    assert asyncio.run(go()) == 42
    assert seen == {"caller": "rid-7", "thread": "handler_0"}
