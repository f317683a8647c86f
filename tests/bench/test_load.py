"""The benchmark's own parsing and load generation (bench/load.py), on loopback only."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading

import pytest

from bench.load import LUA, Op, closed_loop, open_loop, parse_wrk, percentile, raw_request, wrk_command

WRK_REPORT = """\
Running 8s test @ http://127.0.0.1:40000/v1/tenants
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  850.00us  41.00ms   90.00%
    Req/Sec     3.90k   200.00     4.20k    70.00%
  Latency Distribution
     50%  850.00us
     75%    2.50ms
     90%    3.00ms
     99%    1.20s
  62000 requests in 8.10s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 17
Requests/sec:   7654.32
Transfer/sec:      2.47MB
"""


def test_parse_wrk_reads_units_failures_and_throughput():
    result = parse_wrk(WRK_REPORT)
    assert result.rps == pytest.approx(7654.32)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.requests == 62000
    assert (result.non_2xx, result.errors) == (17, 5)
    assert not result.ok


def test_parse_wrk_clean_run_is_ok():
    text = WRK_REPORT.replace("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "")
    text = text.replace("  Non-2xx or 3xx responses: 17\n", "")
    assert parse_wrk(text).ok


def test_parse_wrk_refuses_a_report_without_latency_distribution():
    with pytest.raises(ValueError):
        parse_wrk("Running 1s test\nRequests/sec: 10.0\n")


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([7.0], 99) == 7.0


def test_raw_request_fills_the_slug_and_content_length():
    raw = raw_request(Op("POST", "/v1/tenants", '{"slug":"{slug}"}'), "h", "b1-2-3")
    head, body = raw.split(b"\r\n\r\n")
    assert body == b'{"slug":"b1-2-3"}'
    assert f"Content-Length: {len(body)}".encode() in head


def test_raw_request_sends_the_ops_headers():
    op = Op("GET", "/v1/tenants/x").with_headers({"Authorization": "Bearer t0k"})
    head = raw_request(op, "h").split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"GET /v1/tenants/x HTTP/1.1" and b"Authorization: Bearer t0k" in head


def test_wrk_command_passes_headers_with_and_without_the_script():
    auth = {"Authorization": "Bearer t0k"}
    plain = wrk_command("http://h:1", Op("GET", "/x").with_headers(auth), 2, 4)
    assert plain[-3:] == ["-H", "Authorization: Bearer t0k", "http://h:1/x"] and "-s" not in plain
    scripted = wrk_command("http://h:1", Op("POST", "/y", "{}").with_headers(auth), 2, 4, "p1")
    assert scripted[scripted.index("-s") + 1] == str(LUA)
    assert scripted[scripted.index("--") + 1 :] == ["POST", "/y", "{}", "p1", "Authorization: Bearer t0k"]


class _Recorder:
    """A tiny keep-alive HTTP server on loopback that records request heads and bodies; 409 on a
    repeated body."""

    def __init__(self, delay: float = 0.0, conflicts: bool = True):
        self.conflicts = conflicts  # False: a repeated body is fine (200)
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.delay = delay
        self.ready = threading.Event()
        self.port = 0

    async def _handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                self.heads.append(head)
                status = b"409 Conflict" if self.conflicts and body and body in self.bodies else b"200 OK"
                self.bodies.append(body)
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def serve(self):
        async def main():
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            async with server:
                await server.serve_forever()

        threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
        self.ready.wait(5)
        return f"http://127.0.0.1:{self.port}"


def test_open_loop_holds_the_rate_and_counts_from_the_schedule():
    recorder = _Recorder(delay=0.05)  # every answer takes 50 ms: one connection cannot keep up
    base = recorder.serve()
    result = open_loop(base, Op("GET", "/x"), rate=100, duration=0.5, connections=1)
    assert result.requests == 50 and result.ok
    # Sent every 10 ms, answered every 50 ms: the queue grows, and so does the measured latency.
    assert result.p99_ms > 1000


@pytest.mark.parametrize("use_wrk", [False, True])
def test_closed_loop_slugs_never_repeat(use_wrk):
    if use_wrk and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    recorder = _Recorder()
    base = recorder.serve()
    result = closed_loop(
        base, Op("POST", "/v1/tenants", '{"slug":"{slug}","name":"n"}'), 1, 4, slug_prefix="bt", use_wrk=use_wrk
    )
    assert result.requests > 10
    assert result.non_2xx == 0, "a slug was sent twice"
    slugs = [json.loads(b)["slug"] for b in recorder.bodies]
    assert len(set(slugs)) == len(slugs)
    assert len({s.split("-")[1] for s in slugs}) > 1  # more than one connection/thread numbered


AUTH = {"Authorization": "Bearer a.b.c"}


def _authorized(heads: list[bytes]) -> bool:
    return bool(heads) and all(b"\r\nAuthorization: Bearer a.b.c\r\n" in h for h in heads)


@pytest.mark.parametrize("use_wrk", [False, True])
@pytest.mark.parametrize(
    "op",
    [Op("GET", "/v1/tenants/x"), Op("POST", "/v1/tenants", '{"slug":"{slug}"}'), Op("POST", "/v1/x", "{}")],
    ids=["get", "post-slug", "post-fixed"],
)
def test_closed_loop_sends_the_headers_on_every_request(use_wrk, op):
    if use_wrk and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    recorder = _Recorder(conflicts=False)
    base = recorder.serve()
    prefix = "bh" if "{slug}" in (op.body or "") else ""
    result = closed_loop(base, op.with_headers(AUTH), 1, 2, slug_prefix=prefix, use_wrk=use_wrk)
    assert result.requests > 10 and result.ok
    assert _authorized(recorder.heads)
    if op.body:
        assert all(b"Content-Type: application/json" in h for h in recorder.heads)


def test_open_loop_sends_the_headers_on_every_request():
    recorder = _Recorder(conflicts=False)
    base = recorder.serve()
    result = open_loop(base, Op("POST", "/v1/x", "{}").with_headers(AUTH), rate=100, duration=0.2, connections=2)
    assert result.requests == 20 and result.ok
    assert _authorized(recorder.heads)
