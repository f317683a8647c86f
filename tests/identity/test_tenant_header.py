"""The tenant header contract: x-tenant-id against the credential's tenant, before any handler runs."""

from __future__ import annotations

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import service_token, session, tenant


def test_a_mismatch_is_401_before_anything_runs_and_is_audited(client, store):
    a, b = tenant(client), tenant(client)
    mine = bearer(session(client, store, ["tenant_admin"], a["id"])["access_token"])
    wrong = {**mine, "x-tenant-id": b["id"]}
    refused = [
        client.get(f"/v1/tenants/{a['id']}", headers=wrong),
        client.get("/v1/api-keys", params={"tenant_id": a["id"]}, headers=wrong),
        # the body would create a key in a: the header contract refuses first, so nothing is made
        client.post("/v1/api-keys", json={"tenant_id": a["id"], "name": "x"}, headers=wrong),
        client.post("/v1/api-keys", json={"tenant_id": a["id"], "name": 7}, headers=wrong),  # before validation too
        client.get("/v1/catalog", headers=wrong),
        client.get("/v1/auth/principal", headers={**mine, "x-tenant-id": "not-a-uuid"}),
    ]
    for r in refused:
        assert_error(r, 401, "tenant_mismatch")
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/api-keys", params={"tenant_id": a["id"]}).json()["items"] == []
    events = audit(client, action="auth.tenant_mismatch")
    assert len(events) == len(refused)
    assert {e["tenant_id"] for e in events} == {a["id"]}
    assert {e["target_id"] for e in events} == {b["id"], "not-a-uuid"}
    assert {e["metadata"]["path"] for e in events} >= {f"/v1/tenants/{a['id']}", "/v1/api-keys", "/v1/catalog"}


def test_the_matching_header_passes(client, store):
    a = tenant(client)
    token = service_token(client, a["id"], ["tenants:read"])["access_token"]
    r = client.get(f"/v1/tenants/{a['id']}", headers={**bearer(token), "x-tenant-id": a["id"].upper()})
    assert r.status_code == 200, r.text
    assert audit(client, action="auth.tenant_mismatch") == []


def test_a_platform_caller_is_narrowed_to_the_header_tenant(client, store):
    a, b = tenant(client), tenant(client)
    narrowed = {"x-tenant-id": a["id"]}
    assert client.get(f"/v1/tenants/{a['id']}", headers=narrowed).status_code == 200
    assert_error(client.get(f"/v1/tenants/{b['id']}", headers=narrowed), 404, "tenant_not_found")
    assert_error(client.get("/v1/api-keys", params={"tenant_id": b["id"]}, headers=narrowed), 404)
    # a list without tenant_id covers the header's tenant only
    events = client.get("/v1/audit", headers=narrowed).json()["items"]
    assert events and {e.get("tenant_id") for e in events} == {a["id"]}
    assert_error(client.get(f"/v1/tenants/{a['id']}", headers={"x-tenant-id": "acme"}), 400, "invalid_input")
    assert audit(client, action="auth.tenant_mismatch") == []
