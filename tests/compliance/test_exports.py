"""Audit export bundles through the real app, its in-process job worker building them: the round
trip an auditor makes (create, wait on progress, download with the token, unzip, check the
manifest's signature with openssl and the digests with sha256sum, the proofs against the
checkpoint), token misuse, a corrupted byte named by verify, revocation, the entitlement, and a
cross-tenant probe of every export route."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.compliance.helpers import check_as_an_auditor
from tests.helpers import ADMIN, assert_error, bearer, create_key, create_tenant, settings
from tests.identity.helpers import service_token, session

EXPORTS = "/v1/compliance/audit-exports"
ALL = ["audit", "licensing", "disputes", "identity", "webhooks"]


@pytest.fixture
def served(store, tmp_path):
    from server.app import create_app

    env = {"CHARTER_DATA_DIR": str(tmp_path / "data"), "CHARTER_JOB_POLL_MS": "50", "CHARTER_INPROCESS_WORKER": "1"}
    app = create_app(store=store, settings=settings(**env), inprocess_worker=True)
    with app.test_client(headers=ADMIN) as c:
        c.data_dir = tmp_path / "data"  # type: ignore[attr-defined]
        yield c


def _compliant(c, store) -> tuple[dict, dict]:
    """A tenant holding `compliance`, with a few audit events, and its tenant_admin's headers."""
    tenant = create_tenant(c)
    r = c.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "compliance"})
    assert r.status_code == 201, r.text
    for n in range(3):
        create_key(c, tenant["id"], name=f"key-{n}")
    return tenant, bearer(session(c, store, ["tenant_admin"], tenant["id"])["access_token"])


def _window() -> dict:
    now = datetime.now(UTC)
    return {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}


def _ready(c, headers: dict, export_id: str, timeout: float = 30) -> dict:
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        body = c.get(f"{EXPORTS}/{export_id}", headers=headers).json()
        seen.append(body["progress"]["done"])
        if body["status"] in ("ready", "failed"):
            assert body["status"] == "ready", body
            return body
        time.sleep(0.05)
    raise AssertionError(f"the export did not finish: {seen[-5:]}")


def _public_pem(c, key_id: str) -> str:
    keys = c.get("/v1/compliance/keys").json()["items"]
    return next(k["public_key_pem"] for k in keys if k["key_id"] == key_id)


def test_a_bundle_round_trip_as_an_auditor_checks_it(served, store, tmp_path):
    tenant, admin = _compliant(served, store)
    r = served.post(EXPORTS, json={**_window(), "includes": ALL}, headers=admin)
    assert r.status_code == 202, r.text
    made = r.json()
    assert made["status"] == "queued" and made["download_token"]
    done = _ready(served, admin, made["id"])
    assert done["progress"]["done"] == done["progress"]["total"] > 0 and done["size"] > 0
    got = served.get(f"{EXPORTS}/{made['id']}/bundle", params={"token": made["download_token"]}, headers={})
    assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
    assert hashlib.sha256(got.content).hexdigest() == done["sha256"]
    out = tmp_path / "unzipped"
    zipfile.ZipFile(io.BytesIO(got.content)).extractall(out)
    key_id = json.loads((out / "manifest.json").read_bytes())["key_id"]
    # openssl on the signature, sha256sum on the digests, the proofs against the checkpoint's root
    manifest, events = check_as_an_auditor(out, _public_pem(served, key_id), "audit/events.json")
    assert manifest["tenant"] == tenant["id"] and manifest["filter"]["includes"] == ALL
    assert {p.name for p in (out / "licensing").iterdir()} == {
        "products.json",
        "policies.json",
        "licenses.json",
        "invoices.json",
    }
    assert "key-1" in (out / "identity" / "api_keys.json").read_text()
    verified = served.post(f"{EXPORTS}/{made['id']}/verify", headers=admin).json()
    assert verified["ok"] is True and verified["bundle_intact"] is True and verified["checked"] > len(events)


def test_the_download_token_is_the_only_way_in(served, store):
    tenant, admin = _compliant(served, store)
    one = served.post(EXPORTS, json={**_window(), "includes": ["audit"]}, headers=admin).json()
    two = served.post(EXPORTS, json={**_window(), "includes": ["identity"]}, headers=admin).json()
    _ready(served, admin, one["id"])
    _ready(served, admin, two["id"])
    url = f"{EXPORTS}/{one['id']}/bundle"
    access = session(served, store, ["tenant_admin"], tenant["id"])["access_token"]
    assert_error(served.get(url, params={"token": access}, headers={}), 401, "invalid_download_token")
    assert_error(served.get(url, params={"token": two["download_token"]}, headers={}), 401, "invalid_download_token")
    assert_error(served.get(url, params={"token": "a.b.c"}, headers={}), 401, "invalid_download_token")
    assert_error(served.get(url, headers=bearer(access)), 400)  # a session, and no token: refused too
    fresh = served.get(f"{EXPORTS}/{one['id']}", params={"issue_download": 1}, headers=admin).json()
    assert fresh["download_token"] != one["download_token"]
    assert served.get(url, params={"token": fresh["download_token"]}, headers={}).status_code == 200


def test_one_corrupted_byte_is_named_by_verify(served, store):
    tenant, admin = _compliant(served, store)
    made = served.post(EXPORTS, json={**_window(), "includes": ["audit", "identity"]}, headers=admin).json()
    _ready(served, admin, made["id"])
    path = Path(served.data_dir) / "exports" / tenant["id"] / f"{made['id']}.zip"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("identity/api_keys.json")
    raw = bytearray(path.read_bytes())
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    verified = served.post(f"{EXPORTS}/{made['id']}/verify", headers=admin).json()
    assert verified["ok"] is False and verified["bundle_intact"] is False
    assert [p["path"] for p in verified["problems"]] == ["identity/api_keys.json"], verified
    assert "identity/api_keys.json" in verified["guidance"]


def test_revoke_removes_the_bundle_and_only_people_may(served, store):
    tenant, admin = _compliant(served, store)
    made = served.post(EXPORTS, json={**_window(), "includes": ["identity"]}, headers=admin).json()
    _ready(served, admin, made["id"])
    path = Path(served.data_dir) / "exports" / tenant["id"] / f"{made['id']}.zip"
    assert path.is_file()
    service = service_token(served, tenant["id"], ["audit_exports:write", "audit_exports:read"])
    assert_error(served.delete(f"{EXPORTS}/{made['id']}", headers=bearer(service["access_token"])), 403)
    member = bearer(session(served, store, ["tenant_member"], tenant["id"])["access_token"])
    assert_error(served.delete(f"{EXPORTS}/{made['id']}", headers=member), 403)
    for _ in range(2):
        revoked = served.delete(f"{EXPORTS}/{made['id']}", headers=admin)
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert not path.exists()
    got = served.get(f"{EXPORTS}/{made['id']}/bundle", params={"token": made["download_token"]}, headers={})
    assert_error(got, 409, "export_revoked")
    events = served.get("/v1/audit", params={"action": "audit_export.revoked"}).json()["items"]
    assert len(events) == 1 and events[0]["tenant_id"] == tenant["id"]


def test_without_the_entitlement_exports_are_refused_but_the_ledger_is_open(served, store):
    tenant = create_tenant(served)
    admin = bearer(session(served, store, ["tenant_admin"], tenant["id"])["access_token"])
    assert_error(
        served.post(EXPORTS, json={**_window(), "includes": ["audit"]}, headers=admin), 403, "entitlement_required"
    )
    assert_error(served.get(EXPORTS, headers=admin), 403, "entitlement_required")
    assert served.get("/v1/compliance/ledger/checkpoint", headers=admin).status_code == 200


def test_a_tenant_has_at_most_two_exports_running(served, store):
    from uuid import UUID, uuid4

    from store.models import AuditExport, utcnow

    tenant, admin = _compliant(served, store)
    now = utcnow()
    with store.write() as s:  # two exports still running (no job builds them)
        for _ in range(2):
            s.audit_exports.add(
                AuditExport(uuid4(), UUID(tenant["id"]), now, now, ["audit"], "test", now, now, status="running")
            )
    r = served.post(EXPORTS, json={**_window(), "includes": ["audit"]}, headers=admin)
    assert_error(r, 429, "too_many_exports")
    assert r.headers["retry-after"]


def test_another_tenant_reaches_no_export_route(served, store):
    mine, admin = _compliant(served, store)
    made = served.post(EXPORTS, json={**_window(), "includes": ["identity"]}, headers=admin).json()
    _ready(served, admin, made["id"])
    _, stranger = _compliant(served, store)
    for method, path, params in (
        ("GET", f"{EXPORTS}/{made['id']}", {}),
        ("GET", f"{EXPORTS}/{made['id']}", {"issue_download": 1}),
        ("POST", f"{EXPORTS}/{made['id']}/verify", {}),
        ("DELETE", f"{EXPORTS}/{made['id']}", {}),
    ):
        assert_error(served.request(method, path, params=params, headers=stranger), 404, "audit_export_not_found")
    assert served.get(EXPORTS, headers=stranger).json()["items"] == []
    platform_elsewhere = {"x-tenant-id": create_tenant(served)["id"]}
    assert_error(served.get(f"{EXPORTS}/{made['id']}", headers=platform_elsewhere), 403, "entitlement_required")
    assert served.get(f"{EXPORTS}/{made['id']}", headers=admin).json()["status"] == "ready"


def test_the_list_pages_with_a_cursor(served, store):
    tenant, admin = _compliant(served, store)
    made = []
    for _ in range(3):
        made.append(served.post(EXPORTS, json={**_window(), "includes": ["identity"]}, headers=admin).json()["id"])
        _ready(served, admin, made[-1])
    first = served.get(EXPORTS, params={"limit": 2}, headers=admin).json()
    second = served.get(EXPORTS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin).json()
    assert [e["id"] for e in first["items"] + second["items"]] == list(reversed(made))
    assert "next_cursor" not in second
    naive = first["next_cursor"].replace("Z|", "|").split("+")[0]  # a cursor made by hand, no offset
    assert served.get(EXPORTS, params={"cursor": naive}, headers=admin).status_code == 200
    assert_error(served.get(EXPORTS, params={"cursor": "garbage"}, headers=admin), 400, "invalid_cursor")


def test_a_bundle_with_disputes_holds_each_case_with_its_evidence_and_notes(served, store, tmp_path):
    from tests.disputes.helpers import CASES, evidence_body, open_case

    tenant, admin = _compliant(served, store)
    case = open_case(served, tenant, title="chargeback on pay_123")
    here = {"x-tenant-id": tenant["id"]}
    assert served.post(f"{CASES}/{case['id']}/evidence", json=evidence_body(), headers=here).status_code == 201
    assert served.post(f"{CASES}/{case['id']}/notes", json={"body": "called the bank"}, headers=here).status_code == 201
    made = served.post(EXPORTS, json={**_window(), "includes": ["disputes"]}, headers=admin).json()
    _ready(served, admin, made["id"])
    got = served.get(f"{EXPORTS}/{made['id']}/bundle", params={"token": made["download_token"]}, headers={})
    (exported,) = json.loads(zipfile.ZipFile(io.BytesIO(got.content)).read("disputes/cases.json"))
    assert exported["id"] == case["id"] and len(exported["evidence"]) == 1 and len(exported["notes"]) == 1


def test_a_deleted_tenants_bundles_are_removed_by_the_sweep(served, store):
    from uuid import UUID

    from services.compliance.orphans import KIND
    from store.models import new_job

    root = Path(served.data_dir) / "exports"
    files = {}
    for _ in range(2):
        tenant, admin = _compliant(served, store)
        made = served.post(EXPORTS, json={**_window(), "includes": ["identity"]}, headers=admin).json()
        _ready(served, admin, made["id"])
        files[tenant["id"]] = root / tenant["id"] / f"{made['id']}.zip"
    gone, kept = files
    assert all(path.is_file() for path in files.values())
    (root / "not-a-tenant").mkdir()
    with store.write() as s:
        assert s.tenants.delete(UUID(gone)) is True
    assert files[gone].is_file()  # the rows went with the tenant, the file did not
    job = new_job(KIND)
    with store.write() as s:
        s.jobs.enqueue(job)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with store.read() as s:
            if s.jobs.get(job.id).state == "done":
                break
        time.sleep(0.05)
    assert not (root / gone).exists()
    assert files[kept].is_file() and (root / "not-a-tenant").is_dir()
