"""Two real gunicorn workers (`charter serve --workers 2`) appending at once, on a SQLite file and
on a fresh PostgreSQL schema: audited writes from several connections, taken by both workers, into
shared tenants' logs, new tenants' logs and the platform's. Every acknowledged write's event is in
its log, every log is gap-free from seq 0, `verify` passes for each, and the Go verifier checks the
checkpoints signed while the writes ran, every inclusion proof and the consistency proofs between
them, fetched from that server."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from store.sql import SqlStore
from tests.compliance.goverifier import assert_verifies
from tests.helpers import ADMIN
from tests.tools.serving import children, start, stop, wait_up
from tools.server import free_port

THREADS, WRITES = 6, 30  # writes per thread
SHARED = 3  # tenants every thread writes into


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'charter.db'}"  # `charter serve` migrates it
    from store.sql.migrate import upgrade

    url = request.getfixturevalue("pg_empty_url")
    upgrade(url)
    return url


def _write(base: str, shared: list[str], n: int, acknowledged: list) -> None:
    """WRITES audited writes, each on a connection of its own (so gunicorn hands them to either
    worker, not to whichever accepted a kept-alive one): new tenants, API keys of the shared
    tenants, reported events of a shared tenant and of the platform."""
    with httpx.Client(base_url=base, headers={**ADMIN, "connection": "close"}, timeout=30) as c:
        for i in range(WRITES):
            rid = f"w{n}-{i}-{uuid.uuid4().hex[:8]}"
            tenant = shared[(n + i) % SHARED]
            kind = i % 4
            if kind == 0:
                r = c.post("/v1/tenants", json={"slug": f"t-{rid}", "name": "T"}, headers={"x-request-id": rid})
                log = r.json()["id"] if r.status_code == 201 else None
            elif kind == 1:
                r = c.post("/v1/api-keys", json={"tenant_id": tenant, "name": rid}, headers={"x-request-id": rid})
                log = tenant
            else:
                body = {"action": "test.reported", "metadata": {"request_id": rid}}
                log = "platform" if kind == 3 else tenant
                if log != "platform":
                    body["tenant_id"] = tenant
                r = c.post("/v1/audit", json=body, headers={"x-request-id": rid})
            assert r.status_code == 201, r.text
            acknowledged.append((log, rid))


def _watch(base: str, logs: list[str], halt: threading.Event, seen: dict) -> None:
    """Checkpoints of the logs, taken while the writes go on: {log: {size: note}}."""
    with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as c:
        while not halt.wait(0.2):
            for log in logs:
                headers = {} if log == "platform" else {"x-tenant-id": log}
                note = c.get("/v1/compliance/ledger/checkpoint", headers=headers).json()["checkpoint"]
                seen.setdefault(log, {})[int(note.split("\n")[1])] = note


def _vkey(c: httpx.Client, note: str) -> str:
    """The verifier key of the key that signed `note` (its signature line names it)."""
    name, sig = note.split("\n\n", 1)[1].strip().split(" ")[1:]
    key_id = f"{name}+{base64.b64decode(sig)[:4].hex()}"
    keys = c.get("/v1/compliance/keys").json()["items"]
    return next(k["note_verifier_key"] for k in keys if k["key_id"] == key_id)


def _go_document(c: httpx.Client, log: str, old: dict[int, str]) -> dict:
    headers = {} if log == "platform" else {"x-tenant-id": log}
    latest = c.get("/v1/compliance/ledger/checkpoint", headers=headers).json()["checkpoint"]
    size = int(latest.split("\n")[1])
    inclusion = [
        c.get("/v1/compliance/ledger/proofs/inclusion", params={"seq": seq, "tree_size": size}, headers=headers).json()
        for seq in range(size)
    ]
    consistency = []
    for old_size, old_note in sorted(old.items()):
        if 0 < old_size < size:
            params = {"from": old_size, "to": size}
            proof = c.get("/v1/compliance/ledger/proofs/consistency", params=params, headers=headers).json()
            consistency.append({**proof, "old_checkpoint": old_note})
    assert consistency, f"no checkpoint of {log} was taken while it grew"
    return {
        "vkey": _vkey(c, latest),
        "origin": f"charter/audit/{log}",
        "inclusion": inclusion,
        "consistency": consistency,
    }


def test_two_workers_append_concurrently_and_every_log_verifies(database_url, tmp_path, goverifier):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "serve.log"
    proc = start(tmp_path, "--port", str(port), "--workers", "2", env={"DATABASE_URL": database_url}, log=log_file)
    try:
        wait_up(proc, base)
        workers = children(proc.pid)
        assert len(workers) == 2
        with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as c:
            shared = [c.post("/v1/tenants", json={"slug": f"shared-{i}", "name": "S"}).json()["id"] for i in range(3)]
        acknowledged: list[tuple[str, str]] = []
        seen: dict[str, dict[int, str]] = {}
        halt = threading.Event()
        watcher = threading.Thread(target=_watch, args=(base, [*shared, "platform"], halt, seen))
        watcher.start()
        try:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(lambda n: _write(base, shared, n, acknowledged), range(THREADS)))
        finally:
            halt.set()
            watcher.join()
        assert len(acknowledged) == THREADS * WRITES

        store = SqlStore(database_url)
        try:
            with store.read() as s:
                heads = {h.log_id: h.size for h in s.ledger.heads()}
                events = {log: s.ledger.events(log, 0, size + 10) for log, size in heads.items()}
        finally:
            store.close()
        for log, size in heads.items():
            assert [e.seq for e in events[log]] == list(range(size)), f"log {log} has a gap or a seq twice"
        in_log = {(log, (e.metadata or {}).get("request_id")) for log, found in events.items() for e in found}
        assert [a for a in acknowledged if a not in in_log] == []

        with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as c:
            for log in heads:
                headers = {} if log == "platform" else {"x-tenant-id": log}
                verdict = c.get("/v1/compliance/ledger/verify", headers=headers).json()
                assert verdict["ok"] is True and verdict["size"] == heads[log], (log, verdict)
            for log in [*shared, "platform"]:
                assert_verifies(goverifier, _go_document(c, log, seen.get(log, {})))
    finally:
        stop(proc)
    served_by = set()
    for line in log_file.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("method") == "POST" and entry.get("status") == 201:
                served_by.add(entry["pid"])
    assert served_by == workers, f"writes served by {served_by}, workers {workers}"
