"""The processes under test: Charter as a user starts it, and the peer, each one gunicorn worker.

Charter:  .venv/bin/python -m tools.cli serve --workers 1
Peer:     .venv/bin/python -m gunicorn -k uvicorn_worker.UvicornWorker -w 1 bench.peer:app
Baseline: Charter's command again, from another revision's checkout (python -m bench --baseline)
Each runs in a temp dir of its own with DATABASE_URL and CHARTER_ADMIN_KEY set (the bootstrap
platform_admin credential: `Authorization: Bearer <it>`) and its stderr (the JSON access log, one
line a request) in <dir>/stderr.log.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.server import free_port

ROOT = Path(__file__).resolve().parent.parent
# Another checkout of Charter to measure with this harness and peer (say, an earlier revision in a
# `git worktree`): BENCH_CHARTER_ROOT=/path/to/it python -m bench
CHARTER_ROOT = Path(os.environ.get("BENCH_CHARTER_ROOT") or ROOT).resolve()
PEER_WORKER = "uvicorn_worker.UvicornWorker"


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


@dataclass
class Server:
    name: str  # "charter", "peer" or "baseline" (another revision of Charter)
    store: str  # "memory", "sqlite", "postgres"
    proc: subprocess.Popen
    port: int
    workdir: Path
    log: object = field(repr=False)
    admin_key: str | None = field(default=None, repr=False)  # its CHARTER_ADMIN_KEY
    authenticates: bool = True  # False: a revision without auth, which ignores credentials

    @property
    def admin(self) -> dict[str, str]:
        """The header that makes a request platform_admin (the bootstrap key)."""
        return bearer(self.admin_key) if self.admin_key else {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "stderr.log"

    @property
    def label(self) -> str:
        return f"{self.name}/{self.store}"

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master we started."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                found.append(int(entry.name))
        return sorted(found)

    def peak_rss_mb(self) -> float | None:
        """The largest VmHWM (peak resident set) among the workers, in MiB."""
        peaks = [p for p in (status_mb(pid, "VmHWM") for pid in self.worker_pids()) if p is not None]
        return max(peaks) if peaks else None

    def call(
        self, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, object]:
        """One request on a fresh connection; (status, decoded JSON or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {**({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})}
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def timed_call(self, method: str, path: str, body: dict) -> tuple[float, int, object]:
        """(milliseconds, status, JSON) of one request on an already open connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.connect()
            payload = json.dumps(body)
            started = time.perf_counter()
            conn.request(method, path, payload, {"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            return elapsed, response.status, json.loads(raw) if raw else None
        finally:
            conn.close()

    def expect(
        self, status: int, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
    ):
        got, data = self.call(method, path, body, headers)
        if got != status:
            raise RuntimeError(f"{self.label}: {method} {path} answered {got}, not {status}: {data}")
        return data

    def access_statuses(self) -> Counter:
        """Statuses in the access log, one JSON line a request."""
        counts: Counter = Counter()
        with open(self.log_path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith('{"'):
                    try:
                        counts[json.loads(line).get("status")] += 1
                    except ValueError:
                        pass
        return counts

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    os.kill(pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def status_mb(pid: int, field: str) -> float | None:
    """A size field of /proc/<pid>/status (VmHWM: the peak resident set; VmRSS: the current), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass
class JobProcess:
    """`charter worker`: the job runner of a PostgreSQL deployment (CHARTER_INPROCESS_WORKER is off
    there, so `charter serve` runs no jobs), one process, its stderr in <dir>/stderr.log."""

    proc: subprocess.Popen
    workdir: Path
    log: object = field(repr=False)
    label: str = "charter worker"

    @property
    def log_path(self) -> Path:
        return self.workdir / "stderr.log"

    def rss_mb(self, field: str = "VmRSS") -> float | None:
        return status_mb(self.proc.pid, field)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # stops claiming, lets a running job finish
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def _popen(cmd: list[str], workdir: Path, env: dict, root: Path) -> tuple[subprocess.Popen, object]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **env}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)
    log = open(workdir / "stderr.log", "w")
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    return proc, log


def _spawn(
    name: str, store: str, cmd: list[str], database_url: str, workdir: Path, extra_env: dict, root: Path = ROOT
) -> Server:
    port = free_port()
    cmd = [c.replace("{port}", str(port)) for c in cmd]
    env = {**extra_env, "DATABASE_URL": database_url, "CHARTER_PORT": str(port)}
    proc, log = _popen(cmd, workdir, env, root)
    return Server(name=name, store=store, proc=proc, port=port, workdir=workdir, log=log)


def start_job_worker(database_url: str, workdir: Path, env: dict | None = None) -> JobProcess:
    """`charter worker` from CHARTER_ROOT, with its default concurrency, as a user starts it."""
    cmd = [python(), "-m", "tools.cli", "worker"]
    proc, log = _popen(cmd, workdir, {**(env or {}), "DATABASE_URL": database_url}, CHARTER_ROOT)
    return JobProcess(proc=proc, workdir=workdir, log=log)


def _auth_env(admin_key: str, extra: dict | None) -> dict:
    return {"CHARTER_ADMIN_KEY": admin_key, **(extra or {})}


def start_charter(
    store: str,
    database_url: str,
    workdir: Path,
    admin_key: str,
    env: dict | None = None,
    root: Path | None = None,
    name: str = "charter",
    authenticates: bool = True,
) -> Server:
    """`charter serve` from CHARTER_ROOT (or `root`: another revision, named `name`)."""
    server = _spawn(
        name,
        store,
        [python(), "-m", "tools.cli", "serve", "--workers", "1"],
        database_url,
        workdir,
        {"CHARTER_HOST": "127.0.0.1", **_auth_env(admin_key, env)},
        root=root or CHARTER_ROOT,
    )
    server.admin_key, server.authenticates = admin_key, authenticates
    return server


def start_peer(
    store: str,
    database_url: str,
    workdir: Path,
    admin_key: str,
    env: dict | None = None,
    endpoints: str = "def",
    response_models: bool = True,
) -> Server:
    cmd = [
        python(),
        "-m",
        "gunicorn",
        "-k",
        PEER_WORKER,
        "-w",
        "1",
        "-b",
        "127.0.0.1:{port}",
        "--graceful-timeout",
        "10",
        "--no-control-socket",
        "bench.peer:app",
    ]
    server = _spawn(
        "peer",
        store,
        cmd,
        database_url,
        workdir,
        {
            "BENCH_PEER_ENDPOINTS": endpoints,
            "BENCH_PEER_RESPONSE_MODELS": "1" if response_models else "0",
            **_auth_env(admin_key, env),
        },
    )
    server.admin_key = admin_key
    return server


def wait_ready(servers: list[Server], timeout: float = 60.0) -> None:
    """Until every server answers GET /healthz with 200."""
    deadline = time.monotonic() + timeout
    for server in servers:
        while True:
            if not server.alive():
                raise RuntimeError(
                    f"{server.label} exited with {server.proc.returncode}; "
                    f"see {server.log_path}:\n{_tail(server.log_path)}"
                )
            try:
                if server.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.label} did not come up; see {server.log_path}")
            time.sleep(0.1)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
