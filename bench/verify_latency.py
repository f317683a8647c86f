"""Verify latency of a registry API key: the first call (argon2id) and repeated calls.

Starts `charter serve` (gunicorn, one uvicorn worker) on a fresh SQLite file, or on DATABASE_URL
when given, creates a tenant and a key, then times POST /v1/internal/api-keys/verify over real
HTTP. The peer is one bare argon2id hash of the same parameters, timed in this process in the
same run: the first call should cost about one of those, a repeated call a small fraction.

    python -m bench.verify_latency [--repeats 500]
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from auth.apikeys import check_hash, hash_key, mint
from tools.server import free_port


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _wait(base: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"charter serve exited with {proc.returncode}")
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("charter serve did not come up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    args = parser.parse_args()

    plaintext, _ = mint()
    stored = hash_key(plaintext)
    argon2 = []
    for _ in range(10):
        started = time.perf_counter()
        check_hash(plaintext, stored)
        argon2.append((time.perf_counter() - started) * 1000)
    peer = statistics.median(argon2)

    workdir = tempfile.mkdtemp(prefix="charter-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CHARTER_PORT": str(port)}
    log = open(os.path.join(workdir, "serve.log"), "w")  # the access log is one line a request
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "serve", "--workers", "1"], cwd=workdir,
                            env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    try:
        _wait(base, proc)
        with httpx.Client(base_url=base, timeout=30) as c:
            tenant = c.post("/v1/tenants", json={"slug": f"bench-{port}", "name": "Bench"}).json()
            key = c.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "bench"}).json()["plaintext"]
            started = time.perf_counter()
            assert c.post("/v1/internal/api-keys/verify", json={"key": key}).json()["valid"]
            first = (time.perf_counter() - started) * 1000
            repeated = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                assert c.post("/v1/internal/api-keys/verify", json={"key": key}).json()["valid"]
                repeated.append((time.perf_counter() - started) * 1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    p50, p99 = _percentile(repeated, 50), _percentile(repeated, 99)
    store = os.environ.get("DATABASE_URL", "sqlite (fresh file)").split("://")[0]
    print(f"store: {store}; one gunicorn/uvicorn worker; {args.repeats} sequential repeated verifies")
    print(f"peer  bare argon2id hash (t=1, m=64MiB, p=4)  median {peer:8.2f} ms")
    print(f"first verify over HTTP                         {first:8.2f} ms   ratio to peer {first / peer:5.2f}x")
    print(f"repeated verify over HTTP               p50 {p50:8.2f} ms   ratio to peer {p50 / peer:5.3f}x")
    print(f"repeated verify over HTTP               p99 {p99:8.2f} ms   ratio to peer {p99 / peer:5.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
