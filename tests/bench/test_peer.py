"""The benchmark peer (bench/peer.py) validates like specs/registry.yaml and answers like Charter."""
from __future__ import annotations

import yaml

from charter.config import SPECS_DIR


def _schemas():
    return yaml.safe_load((SPECS_DIR / "registry.yaml").read_text())["components"]["schemas"]


def test_peer_models_carry_the_spec_constraints():
    from bench import peer

    spec = _schemas()
    create = peer.TenantCreate.model_json_schema()["properties"]
    wanted = spec["TenantCreate"]["properties"]
    assert create["slug"]["pattern"] == wanted["slug"]["pattern"]
    assert (create["name"]["minLength"], create["name"]["maxLength"]) == (
        wanted["name"]["minLength"], wanted["name"]["maxLength"])
    assert create["plan"]["default"] == wanted["plan"]["default"]
    assert create["kind"]["enum"] == wanted["kind"]["enum"]
    assert create["kind"]["default"] == wanted["kind"]["default"]
    assert set(peer.Tenant.model_fields) == set(spec["Tenant"]["properties"])
    assert set(peer.APIKeyCreate.model_fields) == set(spec["APIKeyCreate"]["properties"])
    assert peer.APIKeyCreate.model_json_schema()["properties"]["name"]["maxLength"] == 100


def test_peer_answers_in_charters_shapes():
    from fastapi.testclient import TestClient

    from auth.apikeys import KeyVerifier
    from bench import peer
    from charter import runtime
    from charter.catalog import Catalog
    from charter.config import Settings
    from store.memory import MemoryStore

    settings = Settings.from_env({"DATABASE_URL": "memory://"})
    services = runtime.Services(store=MemoryStore(), settings=settings,
                                catalog=Catalog.load(settings.catalog_file), keys=KeyVerifier())
    with TestClient(peer.create_app(services)) as client:
        created = client.post("/v1/tenants", json={"slug": "peer-test", "name": "Peer"})
        assert created.status_code == 201
        assert created.headers["x-request-id"]
        tenant = created.json()
        assert "sales_owner" not in tenant and tenant["kind"] == "customer"
        assert client.get(f"/v1/tenants/{tenant['id']}").json() == tenant
        again = client.post("/v1/tenants", json={"slug": "peer-test", "name": "Peer"})
        assert (again.status_code, again.json()["error"]) == (409, "slug_taken")
        assert client.post("/v1/tenants", json={"slug": "A", "name": "Peer"}).status_code == 422
        missing = client.get("/v1/tenants/00000000-0000-0000-0000-000000000000")
        assert (missing.status_code, missing.json()["error"]) == (404, "tenant_not_found")
        key = client.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "k"}).json()
        verified = client.post("/v1/internal/api-keys/verify", json={"key": key["plaintext"]}).json()
        assert verified == {"valid": True, "tenant_id": tenant["id"], "scopes": []}
        page = client.get("/v1/audit", params={"limit": 1}).json()
        assert page["items"][0]["action"] == "api_key.created" and page["next_cursor"] == 2
        assert client.get("/v1/audit", params={"limit": 501}).status_code == 422
