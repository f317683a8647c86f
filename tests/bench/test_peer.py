"""The benchmark peer (bench/peer.py) validates like specs/registry.yaml, answers like Charter, and
runs Charter's security gate with the principal reaching the handlers."""

from __future__ import annotations

import threading

import pytest
import yaml

from charter.config import SPECS_DIR

ADMIN_KEY = "bench-tests-bootstrap-admin-key-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _schemas():
    return yaml.safe_load((SPECS_DIR / "registry.yaml").read_text())["components"]["schemas"]


def _settings():
    from charter.config import Settings

    return Settings.from_env({"DATABASE_URL": "memory://", "CHARTER_ADMIN_KEY": ADMIN_KEY})


def _client(monkeypatch, endpoints: str = "def"):
    from fastapi.testclient import TestClient

    from bench import peer
    from store.memory import MemoryStore

    monkeypatch.setenv("BENCH_PEER_ENDPOINTS", endpoints)
    return TestClient(peer.create_app(peer.build_services(_settings(), MemoryStore())))


def _service_token(client, tenant_id: str) -> dict:
    key = client.post(
        "/v1/api-keys", headers=ADMIN, json={"tenant_id": tenant_id, "name": "k", "scopes": ["tenants:read"]}
    )
    assert key.status_code == 201, key.text
    minted = client.post("/v1/auth/token", headers={"Authorization": f"Bearer {key.json()['plaintext']}"})
    assert minted.status_code == 200, minted.text
    return {"Authorization": f"Bearer {minted.json()['access_token']}"}


def test_peer_models_carry_the_spec_constraints():
    from bench import peer

    spec = _schemas()
    create = peer.TenantCreate.model_json_schema()["properties"]
    wanted = spec["TenantCreate"]["properties"]
    assert create["slug"]["pattern"] == wanted["slug"]["pattern"]
    assert (create["name"]["minLength"], create["name"]["maxLength"]) == (
        wanted["name"]["minLength"],
        wanted["name"]["maxLength"],
    )
    assert create["plan"]["default"] == wanted["plan"]["default"]
    assert create["kind"]["enum"] == wanted["kind"]["enum"]
    assert create["kind"]["default"] == wanted["kind"]["default"]
    assert set(peer.Tenant.model_fields) == set(spec["Tenant"]["properties"])
    assert set(peer.APIKeyCreate.model_fields) == set(spec["APIKeyCreate"]["properties"])
    assert peer.APIKeyCreate.model_json_schema()["properties"]["name"]["maxLength"] == 100


def test_peer_services_are_the_ones_charter_builds():
    """bench.peer.build_services gives what server.app.create_app serves with."""
    from dataclasses import fields

    from auth.context import Auth
    from bench import peer
    from server.app import create_app
    from store.memory import MemoryStore

    store = MemoryStore()
    theirs = create_app(settings=_settings(), store=store).services
    mine = peer.build_services(_settings(), store)
    for f in fields(theirs):
        assert type(getattr(mine, f.name)) is type(getattr(theirs, f.name)), f.name
    assert mine.store is store
    assert mine.runner.threads == theirs.runner.threads
    mine_auth, their_auth = mine.get(Auth), theirs.get(Auth)
    assert mine_auth.settings == their_auth.settings
    assert mine_auth.limits.rules == their_auth.limits.rules
    assert (mine_auth.tokens.issuer, mine_auth.tokens.audience) == (
        their_auth.tokens.issuer,
        their_auth.tokens.audience,
    )
    assert vars(mine_auth.tokens.keyring)["_rotate_every"] == vars(their_auth.tokens.keyring)["_rotate_every"]
    assert vars(mine_auth.tokens.keyring)["_outlives_by"] == vars(their_auth.tokens.keyring)["_outlives_by"]


@pytest.mark.parametrize("endpoints", ["def", "async"])
def test_peer_answers_in_charters_shapes(monkeypatch, endpoints):
    with _client(monkeypatch, endpoints) as client:
        anonymous = client.post("/v1/tenants", json={"slug": "peer-test", "name": "Peer"})
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        created = client.post("/v1/tenants", json={"slug": "peer-test", "name": "Peer"}, headers=ADMIN)
        assert created.status_code == 201
        assert created.headers["x-request-id"] and created.headers["x-api-version"] == "v1"
        tenant = created.json()
        assert "sales_owner" not in tenant and tenant["kind"] == "customer"
        assert client.get(f"/v1/tenants/{tenant['id']}", headers=ADMIN).json() == tenant
        again = client.post("/v1/tenants", json={"slug": "peer-test", "name": "Peer"}, headers=ADMIN)
        assert (again.status_code, again.json()["error"]) == (409, "slug_taken")
        assert client.post("/v1/tenants", json={"slug": "A", "name": "Peer"}, headers=ADMIN).status_code == 422
        missing = client.get("/v1/tenants/00000000-0000-0000-0000-000000000000", headers=ADMIN)
        assert (missing.status_code, missing.json()["error"]) == (404, "tenant_not_found")
        key = client.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "k"}, headers=ADMIN).json()
        verified = client.post("/v1/internal/api-keys/verify", json={"key": key["plaintext"]}).json()
        assert verified == {"valid": True, "tenant_id": tenant["id"], "scopes": []}
        page = client.get("/v1/audit", params={"limit": 1}, headers=ADMIN).json()
        assert page["items"][0]["action"] == "api_key.created" and page["next_cursor"] == 2
        assert client.get("/v1/audit", params={"limit": 501}, headers=ADMIN).status_code == 422
        assert client.get("/v1/audit", params={"limit": 1}).status_code == 401


@pytest.mark.parametrize("endpoints", ["def", "async"])
def test_peer_enforces_a_tenant_bound_service_token(monkeypatch, endpoints):
    with _client(monkeypatch, endpoints) as client:
        mine = client.post("/v1/tenants", json={"slug": "peer-mine", "name": "Mine"}, headers=ADMIN).json()
        other = client.post("/v1/tenants", json={"slug": "peer-other", "name": "Other"}, headers=ADMIN).json()
        token = _service_token(client, mine["id"])
        # 200 only when the handler saw the principal: an anonymous actor sees no tenant.
        assert client.get(f"/v1/tenants/{mine['id']}", headers=token).json() == mine
        hidden = client.get(f"/v1/tenants/{other['id']}", headers=token)
        assert (hidden.status_code, hidden.json()["error"]) == (404, "tenant_not_found")
        refused = client.post("/v1/tenants", json={"slug": "peer-new", "name": "New"}, headers=token)
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
        forged = client.get(f"/v1/tenants/{mine['id']}", headers={"Authorization": "Bearer not.a.jwt"})
        assert (forged.status_code, forged.json()["error"]) == (401, "invalid_token")
        key_as_token = client.get(f"/v1/tenants/{mine['id']}", headers={"Authorization": "Bearer bp_" + "x" * 40})
        assert key_as_token.status_code == 401


def test_the_principal_reaches_a_def_endpoints_thread(monkeypatch):
    """FastAPI runs `def` endpoints in its threadpool: the handler there sees the principal the
    gate admitted, and the event loop's context stays without one."""
    from charter import runtime
    from handlers.registry import tenants

    seen = []
    real_get = tenants.get

    def spy(id):
        seen.append((threading.current_thread().name, runtime.principal()))
        return real_get(id)

    with _client(monkeypatch, "def") as client:
        tenant = client.post("/v1/tenants", json={"slug": "peer-ctx", "name": "Ctx"}, headers=ADMIN).json()
        token = _service_token(client, tenant["id"])
        monkeypatch.setattr(tenants, "get", spy)
        loop_thread = client.portal.call(lambda: threading.current_thread().name)
        assert client.get(f"/v1/tenants/{tenant['id']}", headers=token).status_code == 200
        assert client.get(f"/v1/tenants/{tenant['id']}", headers=ADMIN).status_code == 200
    (thread, service), (_, admin) = seen
    assert thread != loop_thread  # really another thread
    assert (service.kind, str(service.tenant_id), service.scopes) == ("service", tenant["id"], ("tenants:read",))
    assert (admin.kind, admin.platform) == ("admin_key", True)
    assert runtime.principal() is None  # nothing leaks into the test's own context
