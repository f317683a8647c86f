"""Charter's checkpoints and proofs, checked by Go's golang.org/x/mod/sumdb/note and sumdb/tlog
(tests/ledger/goverifier, built by the `goverifier` fixture: tests/compliance/goverifier.py)."""

from __future__ import annotations

import json

from tests.compliance.goverifier import assert_verifies, bundle_document
from tests.compliance.goverifier import run as _run
from tests.helpers import create_key, create_tenant


def test_go_verifies_charters_checkpoints_and_proofs(goverifier, client, anonymous):
    tenant = create_tenant(client)
    headers = {"x-tenant-id": tenant["id"]}
    first = client.get("/v1/compliance/ledger/checkpoint", headers=headers).json()["checkpoint"]
    for i in range(9):
        create_key(client, tenant["id"], name=f"k{i}")
    old = {1: None, 2: None, 5: None}
    for size in old:
        r = client.get("/v1/compliance/ledger/proofs/consistency", params={"from": 0, "to": size}, headers=headers)
        old[size] = r.json()["checkpoint"]
    latest = client.get("/v1/compliance/ledger/checkpoint", headers=headers).json()["checkpoint"]
    size = int(latest.split("\n")[1])
    (key,) = anonymous.get("/v1/compliance/keys").json()["items"]
    inclusion = [
        client.get(
            "/v1/compliance/ledger/proofs/inclusion", params={"seq": seq, "tree_size": t}, headers=headers
        ).json()
        for t in (1, 5, size)
        for seq in range(t)
    ]
    consistency = []
    for old_size, old_note in [*old.items(), (int(first.split("\n")[1]), first)]:
        if old_size >= size:
            continue
        proof = client.get(
            "/v1/compliance/ledger/proofs/consistency", params={"from": old_size, "to": size}, headers=headers
        ).json()
        consistency.append({**proof, "old_checkpoint": old_note})
    document = {
        "vkey": key["note_verifier_key"],
        "origin": f"charter/audit/{tenant['id']}",
        "inclusion": inclusion,
        "consistency": consistency,
    }
    assert_verifies(goverifier, document)
    # And it can fail: a changed hash in one proof, a checkpoint of another log.
    forged = json.loads(json.dumps(document))
    forged["inclusion"][-1]["hashes"][0] = forged["inclusion"][-1]["leaf_hash"]
    assert _run(goverifier, forged).returncode == 1
    forged = {**document, "origin": "charter/audit/platform"}
    assert "origin" in _run(goverifier, forged).stdout
    forged = json.loads(json.dumps(document))
    forged["consistency"][0]["hashes"].reverse()
    if len(forged["consistency"][0]["hashes"]) > 1:
        assert _run(goverifier, forged).returncode == 1


def test_go_verifies_an_export_bundles_checkpoint_and_proofs(goverifier, store, tmp_path):
    """The proofs/<seq>.json of an audit export bundle, against its `checkpoint`, as an auditor
    would feed them to the Go verifier."""
    import io
    import time
    import zipfile
    from datetime import UTC, datetime, timedelta

    from server.app import create_app
    from tests.helpers import ADMIN, settings

    env = {"CHARTER_DATA_DIR": str(tmp_path), "CHARTER_JOB_POLL_MS": "50", "CHARTER_INPROCESS_WORKER": "1"}
    with create_app(store=store, settings=settings(**env), inprocess_worker=True).test_client(headers=ADMIN) as c:
        tenant = create_tenant(c)
        assert c.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "compliance"}).status_code == 201
        for i in range(5):
            create_key(c, tenant["id"], name=f"k{i}")
        now, headers = datetime.now(UTC), {"x-tenant-id": tenant["id"]}
        window = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}
        made = c.post("/v1/compliance/audit-exports", json={**window, "includes": ["audit"]}, headers=headers).json()
        for _ in range(300):
            if c.get(f"/v1/compliance/audit-exports/{made['id']}", headers=headers).json()["status"] == "ready":
                break
            time.sleep(0.05)
        got = c.get(f"/v1/compliance/audit-exports/{made['id']}/bundle", params={"token": made["download_token"]})
        assert got.status_code == 200, got.text
        (key,) = c.get("/v1/compliance/keys").json()["items"]
    document = bundle_document(zipfile.ZipFile(io.BytesIO(got.content)), key["note_verifier_key"])
    assert document["origin"] == f"charter/audit/{tenant['id']}"
    assert_verifies(goverifier, document)
