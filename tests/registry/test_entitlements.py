"""The platform's entitlement grants and removals (POST /v1/entitlements, DELETE
/v1/entitlements/{tenant_id}/{product}) through the real app, on every store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.helpers import assert_error, audit, create_tenant


def _grant(client, tenant_id: str, product: str = "compliance", **body):
    return client.post("/v1/entitlements", json={"tenant_id": tenant_id, "product": product, **body})


def test_a_grant_of_a_product_without_a_trial(client):
    t = create_tenant(client)
    expires = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    r = _grant(client, t["id"], expires_at=expires.isoformat().replace("+00:00", "Z"), config={"seats": 5})
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["tenant_id"] == t["id"] and e["product"] == "compliance" and e["enabled"] is True
    assert e["config"] == {"seats": 5}
    assert datetime.fromisoformat(e["expires_at"].replace("Z", "+00:00")) == expires
    assert client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"] == [e]
    [event] = audit(client, tenant_id=t["id"], action="entitlement.granted")
    assert event["product"] == "compliance" and event["target_id"] == "compliance"
    # without expiry or config
    plain = _grant(client, t["id"], "licensing")
    assert plain.status_code == 201, plain.text
    assert plain.json()["config"] == {} and plain.json().get("expires_at") is None


def test_a_grant_is_refused_when_held_unknown_or_already_over(client):
    t = create_tenant(client)
    assert _grant(client, t["id"]).status_code == 201
    assert_error(_grant(client, t["id"]), 409, "already_entitled")
    assert_error(_grant(client, t["id"], "no-such-product"), 404, "product_not_found")
    assert_error(_grant(client, str(uuid.uuid4())), 404, "tenant_not_found")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert_error(_grant(client, t["id"], "licensing", expires_at=past), 400, "invalid_expiry")
    assert_error(client.post("/v1/entitlements", json={"tenant_id": t["id"]}), 400)
    assert len(client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"]) == 1
    assert len(audit(client, tenant_id=t["id"], action="entitlement.granted")) == 1


def test_a_trial_counts_as_held(client):
    t = create_tenant(client)
    assert (
        client.post("/v1/catalog/trial-request", json={"tenant_id": t["id"], "product": "analytics"}).status_code == 201
    )
    assert_error(_grant(client, t["id"], "analytics"), 409, "already_entitled")


def test_remove_then_the_product_is_gone_and_can_be_granted_again(client):
    t = create_tenant(client)
    assert _grant(client, t["id"]).status_code == 201
    r = client.delete(f"/v1/entitlements/{t['id']}/compliance")
    assert r.status_code == 204, r.text
    assert client.get("/v1/entitlements", params={"tenant_id": t["id"]}).json()["items"] == []
    [event] = audit(client, tenant_id=t["id"], action="entitlement.removed")
    assert event["product"] == "compliance"
    assert_error(client.delete(f"/v1/entitlements/{t['id']}/compliance"), 404, "entitlement_not_found")
    assert_error(client.delete(f"/v1/entitlements/{t['id']}/no-such-product"), 404, "entitlement_not_found")
    assert_error(client.delete(f"/v1/entitlements/{uuid.uuid4()}/compliance"), 404, "tenant_not_found")
    assert_error(client.delete("/v1/entitlements/not-a-uuid/compliance"), 400)
    assert _grant(client, t["id"]).status_code == 201  # granted anew
    assert len(audit(client, tenant_id=t["id"], action="entitlement.removed")) == 1


def test_a_removed_trial_stays_spent(client):
    t = create_tenant(client)
    body = {"tenant_id": t["id"], "product": "licensing"}
    assert client.post("/v1/catalog/trial-request", json=body).status_code == 201
    assert client.delete(f"/v1/entitlements/{t['id']}/licensing").status_code == 204
    assert_error(client.post("/v1/catalog/trial-request", json=body), 409, "already_entitled")
    assert _grant(client, t["id"], "licensing").status_code == 201  # the platform may still grant it


def test_a_grant_is_idempotent_with_its_key(client):
    t = create_tenant(client)
    headers = {"Idempotency-Key": f"grant-{uuid.uuid4()}"}
    body = {"tenant_id": t["id"], "product": "compliance"}
    first = client.post("/v1/entitlements", json=body, headers=headers)
    again = client.post("/v1/entitlements", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert len(audit(client, tenant_id=t["id"], action="entitlement.granted")) == 1
