"""A throwaway copy of the project, for tests that edit specs and handlers like a developer would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = (
    "charter",
    "handlers",
    "services",
    "server",
    "store",
    "auth",
    "tools",
    "specs",
    "tests",
    "catalog.yaml",
    "README.md",
    "pyproject.toml",
    "schemathesis.toml",  # `charter fuzz` reads it from the working directory
)


def copy_project(dest: Path) -> Path:
    for part in PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    return dest


def charter(project: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the copy's `charter` command, importing the copy's code rather than the checkout's."""
    full_env = {**os.environ, "PYTHONPATH": str(project), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", *args],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def get_status(project: Path, path: str) -> tuple[int, str]:
    """GET `path` from the copy's app on the memory store, as platform_admin: (status, error code or "")."""
    probe = (
        "import sys\n"
        "from server.app import create_app\n"
        "from store.memory import MemoryStore\n"
        "from tests.helpers import ADMIN, settings\n"
        "r = create_app(store=MemoryStore(), settings=settings()).test_client(headers=ADMIN).get(sys.argv[1])\n"
        "print(r.status_code, r.json().get('error', '') if r.headers.get('content-type', '').startswith('application/json') else '')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, path],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project)},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    status, _, code = run.stdout.strip().partition(" ")
    return int(status), code


def readme_block(marker: str) -> str:
    """The code block after `<!-- {marker} -->` in README.md, dedented."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\n\s*```\w+\n(.*?)\n\s*```", readme, re.DOTALL)
    assert match, f"README lost its block {marker!r}"
    lines = match.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def pytest_in(project: Path, test_file: str, stores: str = "memory or sqlite") -> subprocess.CompletedProcess:
    """Run one of the copy's test files on the given stores, importing the copy's code."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", stores, test_file],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(project)},
    )
