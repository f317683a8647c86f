"""`charter serve` and `charter migrate` as real processes: gunicorn, uvicorn workers, real HTTP."""

import json
import os
import signal
import subprocess
import sys

import httpx

from tests.helpers import ADMIN
from tests.tools.serving import alive, children, environment, kill_9_after, start, stop, wait_up
from tools.server import free_port


def test_serve_on_the_embedded_default_is_durable(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, "--port", str(port), "--workers", "2")
    try:
        wait_up(proc, base)
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
        err = stop(proc)
    assert (tmp_path / "charter.db").exists()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(
        e["request_id"] == "serve-test-1"
        and e["operation_id"] == "handlers.registry.tenants.create"
        and e["status"] == 201
        for e in lines
    ), err

    proc = start(tmp_path, env={"CHARTER_PORT": str(port)})
    try:
        wait_up(proc, base)
        assert httpx.get(f"{base}/v1/tenants/by-slug/durable", headers=ADMIN).status_code == 200
        assert httpx.get(f"{base}/v1/tenants/by-slug/durable").status_code == 401
    finally:
        stop(proc)


def test_serve_refuses_many_workers_on_memory(tmp_path):
    proc = start(tmp_path, "--workers", "2", env={"DATABASE_URL": "memory://"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--workers 1" in err


def test_serve_refuses_a_postgres_schema_that_is_behind(tmp_path, pg_empty_url):
    port = free_port()
    env = {"DATABASE_URL": pg_empty_url, "CHARTER_PORT": str(port)}
    proc = start(tmp_path, env=env)
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
    proc = start(tmp_path, env=env)
    try:
        wait_up(proc, f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
    finally:
        stop(proc)


def test_serve_explains_a_bad_database_url(tmp_path):
    for url in ("mysql://db/charter", "nonsense"):
        proc = start(tmp_path, env={"DATABASE_URL": url})
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and "DATABASE_URL" in err and "Traceback" not in err, err


def test_workers_die_with_their_master_and_keep_every_acknowledged_write(tmp_path):
    """kill -9 of the gunicorn master while writes are going on: the workers exit within seconds,
    every write that was answered 201 is in the database, and `charter serve` comes up again on
    the same port at once (hardening, issue 10: item 13)."""
    import threading

    from store.sql import SqlStore

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, "--port", str(port), "--workers", "2")
    acknowledged, halt = [], threading.Event()

    def write(n: int) -> None:
        while not halt.is_set():
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
        wait_up(proc, base)
        workers = children(proc.pid)
        assert len(workers) == 2
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in writers:
            t.start()
        kill_9_after(proc, acknowledged, watch=workers)  # the master only: its workers must follow
        halt.set()
        for t in writers:
            t.join(timeout=10)
        assert not any(alive(w) for w in workers), "workers outlived their master by 15 s"
    finally:
        halt.set()
        for w in children(proc.pid) if proc.poll() is None else ():
            os.kill(w, signal.SIGKILL)
    assert len(acknowledged) > 10, acknowledged
    store = SqlStore(f"sqlite:///{tmp_path / 'charter.db'}")
    try:
        with store.read() as s:
            missing = [t for t in acknowledged if s.tenants.get(__import__("uuid").UUID(t)) is None]
    finally:
        store.close()
    assert missing == [], f"{len(missing)} acknowledged writes lost"

    again = start(tmp_path, "--port", str(port))
    try:
        wait_up(again, base, timeout=30)
    finally:
        stop(again)


def test_a_port_in_use_is_one_clear_line_and_a_failure(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start(tmp_path, "--port", str(port))
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
            env=environment(env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"127.0.0.1:{dead}" in lines[0] and "refused" in lines[0].lower(), lines
