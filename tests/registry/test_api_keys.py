"""API keys through the real app, on every store: shown once, hashed at rest, verified, revoked."""

import re
import uuid
from datetime import timedelta
from uuid import UUID

from auth.context import Auth
from store.models import utcnow
from tests.helpers import assert_error, audit, create_key, create_tenant, legacy_key


def test_create_returns_plaintext_once(client):
    t = create_tenant(client)
    created = create_key(client, t["id"], name="ci", product="analytics", scopes=["read", "write"], created_by="sam")
    plaintext = created["plaintext"]
    assert re.fullmatch(r"bp_[A-Za-z0-9_-]{22}", plaintext)
    key = created["api_key"]
    assert key["prefix"] == plaintext[:11] and key["scopes"] == ["read", "write"]
    assert key["product"] == "analytics" and key["created_by"] == "sam"
    assert key["last_used_at"] is None and key["revoked_at"] is None
    assert created["warning"]
    listed = client.get("/v1/api-keys", params={"tenant_id": t["id"]})
    assert listed.status_code == 200
    assert listed.json()["items"] == [key]
    assert plaintext not in listed.text and plaintext[11:] not in listed.text
    [event] = audit(client, action="api_key.created")
    assert event["target_id"] == key["id"] and plaintext[11:] not in str(event)


def test_verify_valid_then_revoked(client):
    t = create_tenant(client)
    created = create_key(client, t["id"], product="licensing", scopes=["validate"])
    r = client.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]})
    assert r.status_code == 200
    assert r.json() == {"valid": True, "tenant_id": t["id"], "product": "licensing", "scopes": ["validate"]}
    [listed] = client.get("/v1/api-keys", params={"tenant_id": t["id"]}).json()["items"]
    assert listed["last_used_at"] is not None
    first_use = listed["last_used_at"]
    # a use within the minute keeps the recorded one: repeated verifies are reads only
    assert client.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]}).json()["valid"]
    [listed] = client.get("/v1/api-keys", params={"tenant_id": t["id"]}).json()["items"]
    assert listed["last_used_at"] == first_use

    r = client.delete(f"/v1/api-keys/{created['api_key']['id']}")
    assert r.status_code == 204 and r.content == b""
    r = client.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]})
    assert r.json() == {"valid": False}
    [listed] = client.get("/v1/api-keys", params={"tenant_id": t["id"]}).json()["items"]
    assert listed["revoked_at"] is not None
    # revoking again changes nothing and writes no second event
    assert client.delete(f"/v1/api-keys/{created['api_key']['id']}").status_code == 204
    assert len(audit(client, action="api_key.revoked")) == 1


def test_verify_rejects_wrong_and_malformed_keys(client):
    t = create_tenant(client)
    plaintext = create_key(client, t["id"])["plaintext"]
    wrong_tail = plaintext[:11] + ("A" if plaintext[11] != "A" else "B") + plaintext[12:]
    for key in (wrong_tail, "bp_short", "", "x" * 500, "bp_" + "A" * 22, plaintext + "x"):
        r = client.post("/v1/internal/api-keys/verify", json={"key": key})
        assert r.status_code == 200 and r.json() == {"valid": False}, key
    assert client.post("/v1/internal/api-keys/verify", json={"key": plaintext}).json()["valid"] is True
    # after a cached success, a wrong tail is still refused
    r = client.post("/v1/internal/api-keys/verify", json={"key": wrong_tail})
    assert r.json() == {"valid": False}
    assert_error(client.post("/v1/internal/api-keys/verify", json={}), 400)
    assert_error(client.post("/v1/internal/api-keys/verify", json={"key": 5}), 400)


def test_keys_of_a_frozen_tenant_do_not_verify(client):
    t = create_tenant(client)
    plaintext = create_key(client, t["id"])["plaintext"]
    assert client.post("/v1/internal/api-keys/verify", json={"key": plaintext}).json()["valid"] is True
    client.post(f"/v1/tenants/{t['id']}/cancel")
    assert client.post("/v1/internal/api-keys/verify", json={"key": plaintext}).json() == {"valid": False}


def test_a_key_verifies_without_argon2_and_one_made_before_runs_it_once(app, client, store):
    t = create_tenant(client)
    plaintext = create_key(client, t["id"])["plaintext"]
    verifier = app.services.get(Auth).keys
    before = verifier.argon2_runs
    for _ in range(5):
        assert client.post("/v1/internal/api-keys/verify", json={"key": plaintext}).json()["valid"] is True
    assert verifier.argon2_runs == before  # SHA-256 at rest: nothing to ration
    old = legacy_key(store, t["id"])  # argon2id at rest, as keys were made before
    for _ in range(5):
        assert client.post("/v1/internal/api-keys/verify", json={"key": old}).json()["valid"] is True
    assert verifier.argon2_runs == before + 1
    # a key with a trailing newline is malformed: refused before any argon2 run
    assert client.post("/v1/internal/api-keys/verify", json={"key": old + "\n"}).json() == {"valid": False}
    assert verifier.argon2_runs == before + 1


def test_revocation_is_seen_by_another_worker_at_once(store, client):
    """Two apps over one store stand for two workers: a revoke in one stops the other's cache."""
    from server.app import create_app
    from tests.helpers import settings

    t = create_tenant(client)
    created = create_key(client, t["id"])
    with create_app(store=store, settings=settings()).test_client() as other:
        assert other.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]}).json()["valid"]
        assert client.delete(f"/v1/api-keys/{created['api_key']['id']}").status_code == 204
        assert other.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]}).json() == {"valid": False}


def test_create_and_list_errors(client):
    assert_error(
        client.post("/v1/api-keys", json={"tenant_id": str(uuid.uuid4()), "name": "x"}), 404, "tenant_not_found"
    )
    t = create_tenant(client)
    assert_error(client.post("/v1/api-keys", json={"tenant_id": t["id"], "name": "x" * 101}), 400)
    assert_error(client.post("/v1/api-keys", json={"tenant_id": t["id"]}), 400)
    assert_error(client.post("/v1/api-keys", json={"tenant_id": t["id"], "name": "x", "scopes": "all"}), 400)
    assert_error(client.get("/v1/api-keys", params={"tenant_id": str(uuid.uuid4())}), 404, "tenant_not_found")
    assert_error(client.get("/v1/api-keys"), 400)
    assert_error(client.delete(f"/v1/api-keys/{uuid.uuid4()}"), 404, "api_key_not_found")
    assert_error(client.delete("/v1/api-keys/123"), 400)
    assert client.get("/v1/api-keys", params={"tenant_id": t["id"]}).json() == {"items": []}


def test_verify_records_a_use_older_than_a_minute(client, store):
    t = create_tenant(client)
    created = create_key(client, t["id"])
    key_id = UUID(created["api_key"]["id"])
    long_ago = utcnow() - timedelta(minutes=2)
    with store.write() as s:
        s.api_keys.touch(key_id, long_ago)
    assert client.post("/v1/internal/api-keys/verify", json={"key": created["plaintext"]}).json()["valid"]
    with store.read() as s:
        assert s.api_keys.get(key_id).last_used_at > long_ago + timedelta(minutes=1)
