"""The arbitration package through the real app, on every store: a bundle in the audit exports'
format (services.compliance.bundle), so it is checked exactly as an export bundle is: unzipped and
checked the way an auditor would (tests.compliance.helpers.check_as_an_auditor: openssl, sha256sum,
the published key, each inclusion proof recomputed independently), by `bundle.check`, and by the Go
verifier; tampering is caught; the per-tenant rate limit."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import zipfile

import pytest
import rfc8785
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from services.compliance import bundle
from tests.compliance.goverifier import assert_verifies, bundle_document
from tests.compliance.helpers import OPENSSL_VERIFY, check_as_an_auditor
from tests.disputes.helpers import CASES, compliant_tenant, digest, evidence_body, in_, open_case
from tests.helpers import assert_error, audit


def _export(client, tenant, case) -> bytes:
    r = client.get(f"{CASES}/{case['id']}/export/arbitration", headers=in_(tenant))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    assert f"arbitration-{case['id']}.zip" in r.headers["content-disposition"]
    return r.content


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)


def _keys(anonymous) -> dict:
    return {k["key_id"]: k for k in anonymous.get("/v1/compliance/keys").json()["items"]}


def _checked(path, keys: dict) -> dict:
    """bundle.check on the package, as POST /v1/compliance/audit-exports/{id}/verify runs it."""

    def public_key(key_id: str):
        found = keys.get(key_id)
        return None if found is None else load_pem_public_key(found["public_key_pem"].encode())

    return bundle.check(path, public_key)


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


def test_the_package_verifies_as_an_export_bundle_does(client, anonymous, disputed, tmp_path):
    tenant, case = disputed
    raw = _export(client, tenant, case)
    (tmp_path / "case.zip").write_bytes(raw)
    out = tmp_path / "case"
    with zipfile.ZipFile(io.BytesIO(raw)) as package:
        names = set(package.namelist())
        package.extractall(out)
    manifest_bytes = (out / "manifest.json").read_bytes()
    assert manifest_bytes == rfc8785.dumps(json.loads(manifest_bytes))  # the JCS bytes, exactly
    keys = _keys(anonymous)
    pem = keys[json.loads(manifest_bytes)["key_id"]]["public_key_pem"]
    manifest, events = check_as_an_auditor(out, pem, "events.json")
    assert manifest["format"] == "charter-arbitration-package/v1"
    assert (manifest["tenant"], manifest["case_id"]) == (tenant["id"], case["id"])
    paths = [a["path"] for a in manifest["artifacts"]]
    assert paths == ["case.json", "evidence.json", "notes.json", "events.json", "checkpoint", "SHA256SUMS"]
    assert names == {*paths, *(f"proofs/{e['seq']}.json" for e in events), "manifest.json", "manifest.json.sig"}
    verdict = _checked(tmp_path / "case.zip", keys)
    assert verdict["ok"] is True and verdict["checked"] == len(paths) + len(events), verdict

    # what it holds: the case, its evidence and notes, as the API shows them
    detail = client.get(f"{CASES}/{case['id']}", headers=in_(tenant)).json()
    assert json.loads((out / "case.json").read_text()) == case
    assert json.loads((out / "evidence.json").read_text()) == detail["evidence"]
    assert json.loads((out / "notes.json").read_text()) == detail["notes"]
    # every event of the case, up to the checkpoint, the tenant's log's
    assert manifest["checkpoint"]["origin"] == f"charter/audit/{tenant['id']}"
    actions = [e["event"]["action"] for e in events]
    assert actions[0] == "dispute_case.created" and actions.count("dispute_case.evidence_added") == 2
    assert "dispute_case.arbitration_exported" in actions
    for e in events:
        assert base64.b64decode(e["canonical"]) == rfc8785.dumps(e["event"]) and e["event"]["target_id"] == case["id"]
    digests = [e["event"]["metadata"]["evidence"]["sha256"] for e in events if "evidence" in e["event"]["metadata"]]
    assert digests == [digest(b"receipt bytes"), digest(b"chat transcript")]
    # the checkpoint is the one the ledger serves at that size
    served = client.get(
        "/v1/compliance/ledger/proofs/inclusion",
        params={"seq": events[0]["seq"], "tree_size": manifest["checkpoint"]["size"]},
        headers=in_(tenant),
    )
    assert served.json()["checkpoint"] == (out / "checkpoint").read_text()
    assert len(audit(client, tenant_id=tenant["id"], action="dispute_case.arbitration_exported")) == 1

    # and a test that can fail: a changed manifest, or a changed artifact, is caught
    (out / "forged.json").write_bytes(manifest_bytes.replace(b"arbitration-package", b"arbitration-pockage"))
    forged = _run("openssl", *OPENSSL_VERIFY, "-in", "forged.json", "-sigfile", "manifest.json.sig", cwd=out)
    assert forged.returncode != 0
    (out / "notes.json").write_text("[]\n")
    broken = _run("sha256sum", "--strict", "-c", "SHA256SUMS", cwd=out)
    assert broken.returncode != 0 and "notes.json: FAILED" in broken.stdout
    with zipfile.ZipFile(tmp_path / "case.zip") as package, zipfile.ZipFile(tmp_path / "bad.zip", "w") as bad:
        for name in package.namelist():
            bad.writestr(name, b"[]\n" if name == "notes.json" else package.read(name))
    verdict = _checked(tmp_path / "bad.zip", keys)
    assert verdict["ok"] is False and [p["path"] for p in verdict["problems"]] == ["notes.json"]


def test_go_verifies_the_packages_checkpoint_and_proofs(goverifier, client, anonymous, disputed):
    tenant, case = disputed
    package = zipfile.ZipFile(io.BytesIO(_export(client, tenant, case)))
    (key,) = _keys(anonymous).values()
    document = bundle_document(package, key["note_verifier_key"])
    assert document["origin"] == f"charter/audit/{tenant['id']}"
    assert_verifies(goverifier, document)


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
