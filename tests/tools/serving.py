"""`charter serve` and `charter worker` as real processes, for tests: start them, wait for them,
stop them, see their workers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import ADMIN_KEY, SECRET_KEY


def environment(env: dict | None = None) -> dict:
    """This process's environment without its DATABASE_URL, with the tests' bootstrap and secret keys and `env`."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update({"CHARTER_ADMIN_KEY": ADMIN_KEY, "CHARTER_SECRET_KEY": SECRET_KEY, **(env or {})})
    return full_env


def start(tmp_path, *args, env=None, log=None):
    """`charter serve` in tmp_path. Its output goes to pipes, read when it stops; give `log` (a
    file path) for a run of many requests, whose access log would fill a pipe and stall it."""
    full_env = environment(env)
    output = open(log, "a") if log else subprocess.PIPE  # noqa: SIM115 - the process holds it
    return subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "serve", *args],
        cwd=tmp_path,
        env=full_env,
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.PIPE,
        text=True,
    )


ROOT = Path(__file__).resolve().parents[2]


def start_worker(tmp_path, *args, env=None, log=None):
    """`charter worker` in tmp_path, with the checkout on its path (for `--api tests.jobs.api`).
    Its stderr goes to `log` when given (read it with wait_for), else to a pipe."""
    full_env = environment({"PYTHONPATH": str(ROOT), **(env or {})})
    output = open(log, "a") if log else subprocess.PIPE  # noqa: SIM115 - the process holds it
    return subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "worker", *args],
        cwd=tmp_path,
        env=full_env,
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.PIPE,
        text=True,
    )


def wait_for(proc, log, text, timeout=60) -> str:
    """Wait until the file `log` has a line containing `text`; that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in Path(log).read_text().splitlines() if Path(log).exists() else ():
            if text in line:
                return line
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {Path(log).read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in {log} after {timeout} s: {Path(log).read_text()}")


def wait_up(proc, base, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("serve did not come up")


def stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = open(f"/proc/{pid}/stat").read() if os.path.exists(f"/proc/{pid}/stat") else ""
    return " Z " not in stat  # a zombie has exited
