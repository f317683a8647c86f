"""`charter serve` and `charter migrate` as real processes: gunicorn, uvicorn workers, real HTTP."""

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.helpers import ADMIN, ADMIN_KEY
from tools.server import free_port


def _environment(env: dict | None = None) -> dict:
    """This process's environment without its DATABASE_URL, with the tests' bootstrap key and `env`."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update({"CHARTER_ADMIN_KEY": ADMIN_KEY, **(env or {})})
    return full_env


def _start(tmp_path, *args, env=None):
    full_env = _environment(env)
    return subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "serve", *args],
        cwd=tmp_path,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_up(proc, base, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("serve did not come up")


def _stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_serve_on_the_embedded_default_is_durable(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, "--port", str(port), "--workers", "2")
    try:
        _wait_up(proc, base)
        r = httpx.post(
            f"{base}/v1/tenants",
            json={"slug": "durable", "name": "D"},
            headers={"x-request-id": "serve-test-1", **ADMIN},
        )
        assert r.status_code == 201 and r.headers["x-request-id"] == "serve-test-1"
        # two worker processes, one SQLite file: the race still has exactly one winner
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(30) as pool:
            statuses = list(
                pool.map(
                    lambda i: (
                        httpx.post(
                            f"{base}/v1/tenants", json={"slug": "raced", "name": str(i)}, headers=ADMIN, timeout=60
                        ).status_code
                    ),
                    range(30),
                )
            )
        assert statuses.count(201) == 1 and statuses.count(409) == 29, statuses
    finally:
        err = _stop(proc)
    assert (tmp_path / "charter.db").exists()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(
        e["request_id"] == "serve-test-1"
        and e["operation_id"] == "handlers.registry.tenants.create"
        and e["status"] == 201
        for e in lines
    ), err

    proc = _start(tmp_path, env={"CHARTER_PORT": str(port)})
    try:
        _wait_up(proc, base)
        assert httpx.get(f"{base}/v1/tenants/by-slug/durable", headers=ADMIN).status_code == 200
        assert httpx.get(f"{base}/v1/tenants/by-slug/durable").status_code == 401
    finally:
        _stop(proc)


def test_serve_refuses_many_workers_on_memory(tmp_path):
    proc = _start(tmp_path, "--workers", "2", env={"DATABASE_URL": "memory://"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--workers 1" in err


def test_serve_refuses_a_postgres_schema_that_is_behind(tmp_path, pg_empty_url):
    port = free_port()
    env = {"DATABASE_URL": pg_empty_url, "CHARTER_PORT": str(port)}
    proc = _start(tmp_path, env=env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "charter migrate" in err

    full_env = {**os.environ, **env}
    migrated = subprocess.run(
        [sys.executable, "-m", "tools.cli", "migrate"],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    proc = _start(tmp_path, env=env)
    try:
        _wait_up(proc, f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
    finally:
        _stop(proc)


def test_serve_explains_a_bad_database_url(tmp_path):
    for url in ("mysql://db/charter", "nonsense"):
        proc = _start(tmp_path, env={"DATABASE_URL": url})
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and "DATABASE_URL" in err and "Traceback" not in err, err


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = open(f"/proc/{pid}/stat").read() if os.path.exists(f"/proc/{pid}/stat") else ""
    return " Z " not in stat  # a zombie has exited


def test_workers_die_with_their_master_and_keep_every_acknowledged_write(tmp_path):
    """kill -9 of the gunicorn master while writes are going on: the workers exit within seconds,
    every write that was answered 201 is in the database, and `charter serve` comes up again on
    the same port at once (hardening, issue 10: item 13)."""
    import threading

    from store.sql import SqlStore

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, "--port", str(port), "--workers", "2")
    acknowledged, stop = [], threading.Event()

    def write(n: int) -> None:
        while not stop.is_set():
            try:
                r = httpx.post(
                    f"{base}/v1/tenants",
                    json={"slug": f"w{n}-{len(acknowledged)}", "name": "W"},
                    headers=ADMIN,
                    timeout=5,
                )
            except httpx.HTTPError:
                continue
            if r.status_code == 201:
                acknowledged.append(r.json()["id"])

    try:
        _wait_up(proc, base)
        workers = _children(proc.pid)
        assert len(workers) == 2
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in writers:
            t.start()
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        for t in writers:
            t.join(timeout=10)
        assert not any(_alive(w) for w in workers), "workers outlived their master by 15 s"
    finally:
        stop.set()
        for w in _children(proc.pid) if proc.poll() is None else ():
            os.kill(w, signal.SIGKILL)
    assert len(acknowledged) > 10, acknowledged
    store = SqlStore(f"sqlite:///{tmp_path / 'charter.db'}")
    try:
        with store.read() as s:
            missing = [t for t in acknowledged if s.tenants.get(__import__("uuid").UUID(t)) is None]
    finally:
        store.close()
    assert missing == [], f"{len(missing)} acknowledged writes lost"

    again = _start(tmp_path, "--port", str(port))
    try:
        _wait_up(again, base, timeout=30)
    finally:
        _stop(again)


def test_a_port_in_use_is_one_clear_line_and_a_failure(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(tmp_path, "--port", str(port))
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [f"charter serve: port {port} on 127.0.0.1 is in use by another process"]


def test_an_unreachable_database_is_one_line_naming_it(tmp_path):
    dead = free_port()  # nothing listens there
    env = {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead}/test"}
    for command in (["serve", "--port", str(free_port())], ["migrate"]):
        done = subprocess.run(
            [sys.executable, "-m", "tools.cli", *command],
            cwd=tmp_path,
            env=_environment(env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"127.0.0.1:{dead}" in lines[0] and "refused" in lines[0].lower(), lines
