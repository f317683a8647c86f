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
    return _charter("serve", tmp_path, args, environment(env), log)


def _charter(command: str, cwd, args, env: dict, log):
    output = open(log, "a") if log else subprocess.PIPE  # noqa: SIM115 - the process holds it
    return subprocess.Popen(
        [sys.executable, "-m", "tools.cli", command, *args],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.PIPE,
        text=True,
    )


ROOT = Path(__file__).resolve().parents[2]


def start_worker(tmp_path, *args, env=None, log=None):
    """`charter worker` in tmp_path, with the checkout on its path (for `--api tests.jobs.api`).
    Its stderr goes to `log` when given (read it with wait_for), else to a pipe."""
    return _charter("worker", tmp_path, args, environment({"PYTHONPATH": str(ROOT), **(env or {})}), log)


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


def kill_9_after(proc, answered, also=(), watch=None, at_least: int = 20) -> None:
    """SIGKILL the server (and the pids `also`) once a second has passed and `answered` (a list
    or dict clients fill) holds `at_least` entries, 20 s at most (a busy machine); then wait up
    to 15 s for the pids `watch` (default: `also`) to be gone."""
    started = time.monotonic()
    while time.monotonic() - started < 1.0 or (len(answered) < at_least and time.monotonic() - started < 20):
        time.sleep(0.05)
    for pid in (proc.pid, *also):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while any(alive(w) for w in (also if watch is None else watch)) and time.monotonic() < deadline:
        time.sleep(0.1)
