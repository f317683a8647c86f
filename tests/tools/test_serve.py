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


def _start(tmp_path, *args, env=None):
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update({"CHARTER_ADMIN_KEY": ADMIN_KEY, **(env or {})})
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
