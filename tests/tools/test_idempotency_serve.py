"""Idempotency-Key across worker processes, and through kill -9, over real HTTP (issue 11, part 5).

`charter serve` with two workers on SQLite and on PostgreSQL: the key's lock and its kept answer
live in the database (and, on SQLite, in a lock file beside it), so they hold across processes.
"""

from __future__ import annotations

import stat
import threading
import uuid

import httpx
import pytest

from tests.helpers import ADMIN
from tests.tools.serving import children, environment, kill_9_after, start, stop, wait_up
from tools.server import free_port

DATABASES = ["sqlite", "postgres"]


def _env(db: str, request, port: int) -> dict:
    env = {"CHARTER_PORT": str(port)}
    if db == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("pg_url")
    return env


def _tenant_created(base: str, slug: str) -> list[dict]:
    """tenant.created audit events of the tenant with this slug (none when there is no tenant)."""
    found = httpx.get(f"{base}/v1/tenants/by-slug/{slug}", headers=ADMIN, timeout=30)
    if found.status_code == 404:
        return []
    tenant_id = found.json()["id"]
    events = httpx.get(f"{base}/v1/audit", params={"tenant_id": tenant_id, "limit": 500}, headers=ADMIN, timeout=30)
    return [e for e in events.json()["items"] if e["action"] == "tenant.created"]


@pytest.mark.parametrize("db", DATABASES)
def test_twenty_concurrent_creates_with_one_key_make_one_tenant(tmp_path, request, db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, "--workers", "2", env=_env(db, request, port), log=tmp_path / "serve.log")
    slug = f"once-{uuid.uuid4().hex[:8]}"
    key = {"Idempotency-Key": str(uuid.uuid4()), **ADMIN}
    gate = threading.Barrier(20)
    answers: list[httpx.Response] = []

    def create() -> None:
        with httpx.Client(timeout=60) as c:
            gate.wait()
            answers.append(c.post(f"{base}/v1/tenants", json={"slug": slug, "name": "Once"}, headers=key))

    try:
        wait_up(proc, base)
        assert len(children(proc.pid)) == 2
        threads = [threading.Thread(target=create) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 20
        statuses = sorted(r.status_code for r in answers)
        assert set(statuses) <= {201, 409}, statuses
        ran = [r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers]
        assert len(ran) == 1, statuses
        for r in answers:
            if r.status_code == 201:
                assert r.json() == ran[0].json()
            else:
                assert r.json()["error"] == "idempotency_key_in_progress"
        # a retry after the dust settles is a replay
        again = httpx.post(f"{base}/v1/tenants", json={"slug": slug, "name": "Once"}, headers=key, timeout=30)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert len(_tenant_created(base, slug)) == 1
    finally:
        stop(proc)


@pytest.mark.parametrize("db", DATABASES)
def test_kill_9_during_keyed_creates_then_retries_give_exactly_one_effect_each(tmp_path, request, db):
    """Four clients create tenants, each with a key of its own, until the server is killed with
    SIGKILL (master and workers). After a restart every one of those requests is sent again with
    its key: each answers 201, the ones answered before replay the same tenant, and every slug
    has exactly one tenant and one tenant.created event. A request whose change committed without
    its kept answer would answer 409 slug_taken here instead."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(db, request, port)
    proc = start(tmp_path, "--workers", "2", env=env, log=tmp_path / "serve.log")
    run = uuid.uuid4().hex[:6]
    sent: dict[str, str] = {}  # key -> slug
    answered: dict[str, dict] = {}  # key -> the tenant its first answer gave
    halt = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=10) as c:
            i = 0
            while not halt.is_set():
                key, slug = f"{run}-{n}-{i}", f"k9-{run}-{n}-{i}"
                i += 1
                sent[key] = slug
                try:
                    r = c.post(
                        f"{base}/v1/tenants",
                        json={"slug": slug, "name": "K"},
                        headers={"Idempotency-Key": key, **ADMIN},
                    )
                except httpx.HTTPError:
                    continue
                if r.status_code == 201:
                    answered[key] = r.json()

    try:
        wait_up(proc, base)
        workers = children(proc.pid)
        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in clients:
            t.start()
        kill_9_after(proc, answered, also=workers)
        halt.set()
        for t in clients:
            t.join(30)
    finally:
        halt.set()
    assert len(answered) > 10, len(answered)
    assert len(sent) > len(answered) - 1

    again = start(tmp_path, env=env, log=tmp_path / "serve.log")
    try:
        wait_up(again, base)
        with httpx.Client(timeout=30) as c:
            for key, slug in sent.items():
                r = c.post(
                    f"{base}/v1/tenants",
                    json={"slug": slug, "name": "K"},
                    headers={"Idempotency-Key": key, **ADMIN},
                )
                assert r.status_code == 201, (key, r.text)
                if key in answered:
                    assert r.headers["idempotent-replayed"] == "true"
                    assert r.json() == answered[key]
        # the requests cut off by the kill, and a few that were answered: one tenant.created each
        checked = [k for k in sent if k not in answered] + list(answered)[:5]
        for key in checked:
            assert len(_tenant_created(base, sent[key])) == 1, key
    finally:
        stop(again)


def test_the_embedded_default_makes_its_secret_key_file_once_with_mode_0600(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    key_file = tmp_path / "charter.db.secret-key"
    proc = start(tmp_path, "--workers", "2", env={"CHARTER_PORT": str(port), "CHARTER_SECRET_KEY": ""})
    try:
        wait_up(proc, base)
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        made = key_file.read_text()
        headers = {"Idempotency-Key": "made-once", **ADMIN}
        body = {"tenant_id": None, "name": "ci"}
        tenant = httpx.post(f"{base}/v1/tenants", json={"slug": "keyfile", "name": "K"}, headers=ADMIN).json()
        body["tenant_id"] = tenant["id"]
        first = httpx.post(f"{base}/v1/api-keys", json=body, headers=headers, timeout=30)
        assert first.status_code == 201, first.text
    finally:
        stop(proc)
    proc = start(tmp_path, env={"CHARTER_PORT": str(port), "CHARTER_SECRET_KEY": ""})
    try:
        wait_up(proc, base)
        assert key_file.read_text() == made  # kept, not made again
        replay = httpx.post(f"{base}/v1/api-keys", json=body, headers=headers, timeout=30)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["plaintext"] == first.json()["plaintext"]
    finally:
        stop(proc)
    database = b"".join(p.read_bytes() for p in tmp_path.glob("charter.db*") if p != key_file)
    secret_part = first.json()["plaintext"][11:]  # what the stored display prefix does not show
    assert secret_part.encode() not in database


def test_serve_on_postgres_refuses_to_start_without_a_secret_key(tmp_path, pg_url):
    proc = start(tmp_path, env={"DATABASE_URL": pg_url, "CHARTER_SECRET_KEY": ""})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "CHARTER_SECRET_KEY is required on PostgreSQL" in lines[0], lines
    assert environment()["CHARTER_SECRET_KEY"]  # the other serve tests run with one
