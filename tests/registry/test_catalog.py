"""Entitlements, catalog, product requests and trials through the real app, on every store."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.helpers import assert_error, audit, create_tenant


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_catalog_comes_from_configuration(client):
    items = client.get("/v1/catalog").json()["items"]
    keys = {i["key"]: i for i in items}
    assert set(keys) == {"analytics", "licensing", "compliance"}
    assert keys["compliance"]["supports_trial"] is False
    assert keys["licensing"]["demo_url"].startswith("https://")


def test_catalog_file_is_configurable(store, tmp_path):
    from server.app import create_app
    from tests.helpers import ADMIN, settings

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("- {key: solo, name: Solo, description: One product, supports_trial: false}\n")
    with create_app(store=store, settings=settings(CHARTER_CATALOG=str(catalog))).test_client(headers=ADMIN) as c:
        assert [i["key"] for i in c.get("/v1/catalog").json()["items"]] == ["solo"]


def test_trial_creates_14_day_entitlement_and_audit(client):
    t = create_tenant(client)
    before = datetime.now(UTC)
    r = client.post("/v1/catalog/trial-request", json={"tenant_id": t["id"], "product": "analytics"})
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["tenant_id"] == t["id"] and e["product"] == "analytics" and e["enabled"] is True
    expires = _when(e["expires_at"])
    assert before + timedelta(days=14) - timedelta(seconds=5) <= expires <= datetime.now(UTC) + timedelta(days=14)
    listed = client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"]
    assert listed == [e]
    assert [x["action"] for x in audit(client, tenant_id=t["id"])] == ["entitlement.trial_started", "tenant.created"]


def test_second_trial_of_same_product_is_409(client):
    t = create_tenant(client)
    body = {"tenant_id": t["id"], "product": "licensing"}
    assert client.post("/v1/catalog/trial-request", json=body).status_code == 201
    assert_error(client.post("/v1/catalog/trial-request", json=body), 409, "already_entitled")
    assert len(client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"]) == 1
    assert len(audit(client, action="entitlement.trial_started")) == 1


def test_trial_errors(client):
    t = create_tenant(client)
    assert_error(
        client.post("/v1/catalog/trial-request", json={"tenant_id": t["id"], "product": "compliance"}),
        400,
        "trial_not_supported",
    )
    assert_error(
        client.post("/v1/catalog/trial-request", json={"tenant_id": t["id"], "product": "nope"}),
        404,
        "product_not_found",
    )
    assert_error(
        client.post("/v1/catalog/trial-request", json={"tenant_id": str(uuid.uuid4()), "product": "analytics"}),
        404,
        "tenant_not_found",
    )
    assert_error(client.post("/v1/catalog/trial-request", json={"tenant_id": "x", "product": "analytics"}), 400)
    assert_error(client.post("/v1/catalog/trial-request", json={"product": "analytics"}), 400)
    client.post(f"/v1/tenants/{t['id']}/cancel")
    assert_error(
        client.post("/v1/catalog/trial-request", json={"tenant_id": t["id"], "product": "analytics"}),
        409,
        "tenant_inactive",
    )
    assert client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"] == []


def test_catalog_request_is_accepted_and_audited(client):
    t = create_tenant(client)
    r = client.post("/v1/catalog/request", json={"tenant_id": t["id"], "product": "compliance"})
    assert r.status_code == 202 and r.content == b""
    [event] = audit(client, action="catalog.requested")
    assert event["tenant_id"] == t["id"] and event["product"] == "compliance"
    assert_error(client.post("/v1/catalog/request", json={"tenant_id": t["id"], "product": "nope"}), 404)
    assert_error(
        client.post("/v1/catalog/request", json={"tenant_id": str(uuid.uuid4()), "product": "compliance"}), 404
    )
    assert_error(client.post("/v1/catalog/request", json={"tenant_id": t["id"]}), 400)
    assert len(audit(client, action="catalog.requested")) == 1


def test_entitlements_errors(client):
    assert_error(client.get("/v1/entitlements", params={"tenant_id": str(uuid.uuid4())}), 404, "tenant_not_found")
    assert_error(client.get("/v1/entitlements"), 400)
    assert_error(client.get("/v1/entitlements", params={"tenant_id": "nope"}), 400)
