"""python -m bench.soak: one Charter worker under a soak that mints a new service token on every
exchange and uses it once, for --minutes (10 by default); the worker's resident memory is sampled
every --every seconds.

It prints a table of RSS over time and the verdict: the worker plateaus when its RSS over the last
half of the soak grew by less than --slack MiB (5 by default), whatever it reached first. Every
token is new to the worker, so whatever the worker keeps per token (its cache of verified tokens)
shows here; that cache is bounded (auth.tokens.Tokens capacity).

    .venv/bin/python -m bench.soak --minutes 10 --store sqlite
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import servers
from bench.harness import new_key, new_tenant


def _rss_mib(server: servers.Server) -> float:
    total = 0.0
    for pid in server.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def _drive(server: servers.Server, key: str, tenant: str, stop: threading.Event, counts: list[int]) -> None:
    import httpx

    with httpx.Client(base_url=server.base, timeout=30) as client:
        while not stop.is_set():
            minted = client.post("/v1/auth/token", headers=servers.bearer(key))
            if minted.status_code != 200:
                counts[1] += 1
                continue
            token = minted.json()["access_token"]
            read = client.get(f"/v1/tenants/{tenant}", headers=servers.bearer(token))
            counts[0 if read.status_code == 200 else 1] += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--every", type=float, default=30.0, help="seconds between RSS samples")
    p.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--slack", type=float, default=5.0, help="MiB the last half may grow and still plateau")
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="charter-soak-"))
    url = "memory://" if args.store == "memory" else f"sqlite:///{workdir / 'soak.db'}"
    # Every exchange is a fresh token: the per-address exchange limit would refuse most of them.
    env = {"CHARTER_RATE_LIMITS": "exchange.ip=off"}
    server = servers.start_charter(args.store, url, workdir / "charter", secrets.token_urlsafe(32), env)
    try:
        servers.wait_ready([server])
        tenant = new_tenant(server, "soak")
        key = new_key(server, tenant, ["tenants:read"])
        stop, counts = threading.Event(), [0, 0]
        clients = [
            threading.Thread(target=_drive, args=(server, key, tenant, stop, counts)) for _ in range(args.clients)
        ]
        for c in clients:
            c.start()
        started, samples = time.monotonic(), []
        try:
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                samples.append((elapsed, _rss_mib(server), counts[0]))
                print(
                    f"{elapsed / 60:6.1f} min  RSS {samples[-1][1]:7.1f} MiB  {counts[0]:8d} tokens used",
                    file=sys.stderr,
                )
                time.sleep(min(args.every, args.minutes * 60 - elapsed))
            samples.append((time.monotonic() - started, _rss_mib(server), counts[0]))
        finally:
            stop.set()
            for c in clients:
                c.join(timeout=30)
    finally:
        server.stop()
    half = next(s for s in samples if s[0] >= samples[-1][0] / 2)
    grown = samples[-1][1] - half[1]
    print(f"{'minute':>8} {'RSS MiB':>9} {'tokens':>9}")
    for elapsed, rss, used in samples:
        print(f"{elapsed / 60:8.1f} {rss:9.1f} {used:9d}")
    rate = samples[-1][2] / samples[-1][0]
    print(f"{samples[-1][2]} fresh tokens used ({rate:.0f}/s), {counts[1]} non-2xx")
    print(
        f"RSS {samples[0][1]:.1f} -> {half[1]:.1f} (half-time) -> {samples[-1][1]:.1f} MiB: last half grew "
        f"{grown:+.1f} MiB against a slack of {args.slack:.1f}: {'plateaus' if grown < args.slack else 'GROWS'}"
    )
    return 0 if grown < args.slack and not counts[1] else 1


if __name__ == "__main__":
    sys.exit(main())
