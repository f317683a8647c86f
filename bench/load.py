"""Load generators. Each run returns a Result: throughput, p50/p99 latency, non-2xx and errors.

closed_loop   as fast as the server answers, over N keep-alive connections: wrk when installed
              (`wrk -t2 -cN -dDs --latency`, bench/request.lua for bodies), else a small asyncio
              client over raw HTTP/1.1 sockets.
open_loop     a fixed request rate (asyncio, raw keep-alive sockets). Requests are scheduled at
              fixed intervals and latency runs from the scheduled send time, so a stall delays
              every request due during it and shows in the percentiles (no coordinated omission).

An Op's body may hold "{slug}": every request then gets a slug no other request of the run uses.
An Op's headers (say `Authorization: Bearer …`) go with every request it sends, in every loop.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("request.lua")
WRK_TIMEOUT_S = 10  # a slower answer counts as a socket timeout (an error) instead of a latency


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, value) pairs sent with every request

    def with_headers(self, headers: dict[str, str] | None) -> Op:
        """This op with `headers` (name -> value) added to what it sends."""
        return Op(self.method, self.path, self.body, (*self.headers, *(headers or {}).items()))


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    errors: int = 0  # socket errors and timeouts

    @property
    def ok(self) -> bool:
        return self.non_2xx == 0 and self.errors == 0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------- wrk


def wrk_version() -> str | None:
    exe = shutil.which("wrk")
    if exe is None:
        return None
    out = subprocess.run([exe, "-v"], capture_output=True, text=True).stdout
    match = re.search(r"wrk\s+(\S+)", out)
    return match.group(1) if match else "unknown version"


_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS[unit]


def parse_wrk(text: str) -> Result:
    """The numbers of one `wrk --latency` report."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in ", text, re.M)
    marks = dict(
        (int(p), _ms(v, u)) for p, v, u in re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    )
    if not (rps and total and 50 in marks and 99 in marks):
        raise ValueError(f"not a wrk --latency report:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return Result(
        rps=float(rps.group(1)),
        p50_ms=marks[50],
        p99_ms=marks[99],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def wrk_command(base: str, op: Op, duration: int, connections: int, slug_prefix: str = "") -> list[str]:
    threads = max(1, min(2, connections))
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", f"--timeout={WRK_TIMEOUT_S}s"]
    if op.body is None and op.method == "GET":  # no script: wrk's static request, the cheapest client
        for name, value in op.headers:
            cmd += ["-H", f"{name}: {value}"]
        return [*cmd, base + op.path]
    # A script builds its requests with its own header table (wrk.format ignores -H), so headers
    # go to bench/request.lua as arguments, one "Name: value" each, after the slug prefix.
    return [
        *cmd,
        "-s",
        str(LUA),
        base + op.path,
        "--",
        op.method,
        op.path,
        op.body or "",
        slug_prefix,
        *(f"{name}: {value}" for name, value in op.headers),
    ]


def _wrk(base: str, op: Op, duration: int, connections: int, slug_prefix: str) -> Result:
    cmd = wrk_command(base, op, duration, connections, slug_prefix)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + WRK_TIMEOUT_S + 30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# ------------------------------------------------------------------------- asyncio HTTP client


def raw_request(op: Op, host: str, slug: str | None = None) -> bytes:
    body = b""
    head = f"{op.method} {op.path} HTTP/1.1\r\nHost: {host}\r\n"
    for name, value in op.headers:
        head += f"{name}: {value}\r\n"
    if op.body is not None:
        body = (op.body.replace("{slug}", slug) if slug else op.body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class _Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry Content-Length."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def send(self, raw: bytes) -> int:
        """Send one request, read its whole answer, return the status. Reconnects if closed."""
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        if length is None:
            raise ConnectionError("answer without Content-Length")
        await self.reader.readexactly(int(length.group(1)))
        if re.search(rb"\r\nconnection:\s*close", head, re.I):
            self.close()
        return status


class _Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.non_2xx = 0
        self.errors = 0

    async def send(self, conn: _Connection, raw: bytes, since: float) -> None:
        try:
            status = await conn.send(raw)
        except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            self.errors += 1
            conn.close()
            return
        self.latencies.append((time.perf_counter() - since) * 1000)
        if not 200 <= status < 300:
            self.non_2xx += 1

    def result(self, elapsed: float) -> Result:
        done = self.latencies or [float("nan")]
        return Result(
            rps=len(self.latencies) / elapsed,
            p50_ms=percentile(done, 50),
            p99_ms=percentile(done, 99),
            requests=len(self.latencies) + self.errors,
            non_2xx=self.non_2xx,
            errors=self.errors,
        )


async def _closed(host: str, port: int, op: Op, duration: float, connections: int, prefix: str) -> Result:
    conns = [_Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in conns))
    tally, started = _Tally(), time.perf_counter()
    deadline = started + duration

    async def drive(number: int, conn: _Connection) -> None:
        sent = 0
        while time.perf_counter() < deadline:
            sent += 1
            slug = f"{prefix}-{number}-{sent}" if prefix else None
            await tally.send(conn, raw_request(op, host, slug), time.perf_counter())

    await asyncio.gather(*(drive(i + 1, c) for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    return tally.result(elapsed)


async def _open(host: str, port: int, op: Op, rate: float, duration: float, connections: int) -> Result:
    conns = [_Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(c.open() for c in conns))
    raw = raw_request(op, host)
    due: asyncio.Queue = asyncio.Queue()
    tally = _Tally()
    started = time.perf_counter() + 0.01

    async def schedule() -> None:
        for i in range(int(rate * duration)):
            at = started + i / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(at)  # queued behind busy connections, its clock is already running
        for _ in conns:
            due.put_nowait(None)

    async def drive(conn: _Connection) -> None:
        while (at := await due.get()) is not None:
            await tally.send(conn, raw, at)

    await asyncio.gather(schedule(), *(drive(c) for c in conns))
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    return tally.result(elapsed)


# ------------------------------------------------------------------------------- entry points


def closed_loop(
    base: str, op: Op, duration: int, connections: int, slug_prefix: str = "", use_wrk: bool = True
) -> Result:
    """Drive `op` as fast as it is answered for `duration` seconds over `connections`."""
    if use_wrk and shutil.which("wrk"):
        return _wrk(base, op, duration, connections, slug_prefix)
    host, port = _host_port(base)
    return asyncio.run(_closed(host, port, op, duration, connections, slug_prefix))


def open_loop(base: str, op: Op, rate: float, duration: float, connections: int = 8) -> Result:
    """Send `op` at `rate` per second for `duration` seconds; latency from each scheduled time."""
    host, port = _host_port(base)
    return asyncio.run(_open(host, port, op, rate, duration, connections))


def _host_port(base: str) -> tuple[str, int]:
    match = re.match(r"^http://([^:/]+):(\d+)$", base)
    if match is None:
        raise ValueError(f"expected http://host:port, got {base!r}")
    return match.group(1), int(match.group(2))
