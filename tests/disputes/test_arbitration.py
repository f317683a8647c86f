"""The arbitration package through the real app, on every store: unzipped and checked the way an
arbitrator would, with openssl and sha256sum and the published key only, its inclusion proofs
recomputed independently (RFC 9162 2.1.3.2); tampering is caught; the per-tenant rate limit."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import zipfile

import pytest
import rfc8785

from tests.compliance.helpers import checkpoint_fields
from tests.disputes.helpers import CASES, compliant_tenant, digest, evidence_body, in_, open_case
from tests.helpers import assert_error, audit


def _root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0, "proof too short"
    return r


def _export(client, tenant, case) -> bytes:
    r = client.get(f"{CASES}/{case['id']}/export/arbitration", headers=in_(tenant))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert f"arbitration-{case['id']}.zip" in r.headers["content-disposition"]
    return r.content


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)


@pytest.fixture
def disputed(client):
    """A tenant's case with two evidence references and a note, under review."""
    tenant = compliant_tenant(client)
    case = open_case(client, tenant, subject_id="pay_arb")
    for data, kind in ((b"receipt bytes", "receipt"), (b"chat transcript", "communication")):
        r = client.post(f"{CASES}/{case['id']}/evidence", json=evidence_body(data, kind=kind), headers=in_(tenant))
        assert r.status_code == 201, r.text
    r = client.post(f"{CASES}/{case['id']}/notes", json={"body": "Sent to arbitration."}, headers=in_(tenant))
    assert r.status_code == 201, r.text
    r = client.post(
        f"{CASES}/{case['id']}/transition", json={"status": "under_review", "stage": "arbitration"}, headers=in_(tenant)
    )
    assert r.status_code == 200, r.text
    return tenant, r.json()


def test_the_package_verifies_with_openssl_sha256sum_and_the_published_key(client, anonymous, disputed, tmp_path):
    tenant, case = disputed
    raw = _export(client, tenant, case)
    with zipfile.ZipFile(io.BytesIO(raw)) as package:
        names = set(package.namelist())
        package.extractall(tmp_path)
    manifest_bytes = (tmp_path / "manifest.json").read_bytes()
    manifest = json.loads(manifest_bytes)
    assert manifest_bytes == rfc8785.dumps(manifest)  # the JCS bytes, exactly
    assert manifest["format"] == "charter-arbitration-package/v1"
    assert (manifest["tenant"], manifest["case_id"]) == (tenant["id"], case["id"])
    paths = [a["path"] for a in manifest["artifacts"]]
    assert names == {*paths, "manifest.json", "manifest.json.sig"}
    assert {"case.json", "evidence.json", "notes.json", "events.json", "checkpoint"} <= set(paths)

    # 1. the signature, by the key the public key list publishes under the manifest's key_id
    keys = {k["key_id"]: k for k in anonymous.get("/v1/compliance/keys").json()["items"]}
    (tmp_path / "pub.pem").write_text(keys[manifest["key_id"]]["public_key_pem"])
    verify = ("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin")
    ok = _run(*verify, "-in", "manifest.json", "-sigfile", "manifest.json.sig", cwd=tmp_path)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    # 2. every artifact's digest
    sums = "".join(f"{a['sha256']}  {a['path']}\n" for a in manifest["artifacts"])
    (tmp_path / "SHA256SUMS").write_text(sums)
    checked = _run("sha256sum", "--strict", "-c", "SHA256SUMS", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert all((tmp_path / a["path"]).stat().st_size == a["size"] for a in manifest["artifacts"])

    # what it holds: the case, its evidence and notes, as the API shows them
    detail = client.get(f"{CASES}/{case['id']}", headers=in_(tenant)).json()
    assert json.loads((tmp_path / "case.json").read_text()) == case
    assert json.loads((tmp_path / "evidence.json").read_text()) == detail["evidence"]
    assert json.loads((tmp_path / "notes.json").read_text()) == detail["notes"]
    # 3. the checkpoint is the manifest's, signed; every event of the case is proved included in it
    note = (tmp_path / "checkpoint").read_text()
    origin, size, root = checkpoint_fields(note)
    assert manifest["checkpoint"] == {"origin": origin, "size": size, "root": base64.b64encode(root).decode()}
    assert origin == f"charter/audit/{tenant['id']}"
    events = json.loads((tmp_path / "events.json").read_text())
    actions = [e["event"]["action"] for e in events]
    assert actions[0] == "dispute_case.created" and actions.count("dispute_case.evidence_added") == 2
    assert "dispute_case.arbitration_exported" in actions
    digests = [e["event"]["metadata"]["evidence"]["sha256"] for e in events if "evidence" in e["event"]["metadata"]]
    assert digests == [digest(b"receipt bytes"), digest(b"chat transcript")]
    for item in events:
        raw_event = base64.b64decode(item["canonical"])
        assert raw_event == rfc8785.dumps(item["event"]) and item["event"]["target_id"] == case["id"]
        leaf = hashlib.sha256(b"\x00" + raw_event).digest()
        assert base64.b64decode(item["leaf_hash"]) == leaf
        proof = json.loads((tmp_path / "proofs" / f"{item['seq']}.json").read_text())
        assert (proof["seq"], proof["tree_size"], proof["checkpoint"]) == (item["seq"], size, note)
        path = [base64.b64decode(h) for h in proof["hashes"]]
        assert _root_from_path(item["seq"], size, leaf, path) == root
    # the checkpoint is the one the ledger serves at that size
    served = client.get(
        "/v1/compliance/ledger/proofs/inclusion",
        params={"seq": events[0]["seq"], "tree_size": size},
        headers=in_(tenant),
    )
    assert served.json()["checkpoint"] == note
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.arbitration_exported")) == 1

    # and a test that can fail: a changed manifest, or a changed artifact, is caught
    (tmp_path / "forged.json").write_bytes(manifest_bytes.replace(b"arbitration-package", b"arbitration-pockage"))
    forged = _run(*verify, "-in", "forged.json", "-sigfile", "manifest.json.sig", cwd=tmp_path)
    assert forged.returncode != 0
    (tmp_path / "notes.json").write_text("[]\n")
    broken = _run("sha256sum", "--strict", "-c", "SHA256SUMS", cwd=tmp_path)
    assert broken.returncode != 0 and "notes.json: FAILED" in broken.stdout


def test_a_tenant_makes_at_most_five_packages_a_minute(client, disputed):
    tenant, case = disputed
    other = compliant_tenant(client)
    theirs = open_case(client, other)
    for _ in range(5):
        _export(client, tenant, case)
    refused = client.get(f"{CASES}/{case['id']}/export/arbitration", headers=in_(tenant))
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.arbitration_exported")) == 5
    _export(client, other, theirs)  # per tenant: another tenant's budget is its own
    # an unknown case is 404 and costs nothing
    other_budget = [client.get(f"{CASES}/{case['id']}/export/arbitration", headers=in_(other)) for _ in range(6)]
    assert {r.status_code for r in other_budget} == {404}
    _export(client, other, theirs)
