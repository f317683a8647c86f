"""`charter fuzz`: schemathesis, every check and phase, over every operation of the served specs.

Without --url it serves the app in-process on a free loopback port, over the store DATABASE_URL
names, and fuzzes that. Returns schemathesis' exit status (0 when nothing failed).
"""
from __future__ import annotations

import subprocess
import sys
from contextlib import nullcontext

PHASES = "examples,coverage,fuzzing,stateful"


def command(base_url: str, max_examples: int, seed: int | None, extra: list[str]) -> list[str]:
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
        "--checks", "all",
        "--phases", PHASES,
        "--max-examples", str(max_examples),
        "--workers", "1",
        "--suppress-health-check", "all",
        "--continue-on-failure",
        "--generation-allow-x00", "false",
        "--generation-database", "none",
    ]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return cmd + list(extra)


def run(url: str | None = None, names=(), max_examples: int = 50, seed: int | None = None,
        extra: list[str] | None = None, capture: bool = False) -> subprocess.CompletedProcess:
    from charter.app import create_app
    from tools.server import running

    serving = nullcontext(url.rstrip("/")) if url else running(create_app(names))
    with serving as base:
        return subprocess.run(
            command(base, max_examples, seed, extra or []),
            text=True, capture_output=capture, check=False,
        )
