"""Deliveries through the real app and its in-process job worker, on every store, to a real
receiver on loopback that verifies each one with the standardwebhooks package."""

from __future__ import annotations

import time

from tests.helpers import audit, create_tenant


def _endpoint(client, tenant: dict, url: str, **body) -> dict:
    r = client.post("/v1/webhooks/endpoints", json={"url": url, **body}, headers={"x-tenant-id": tenant["id"]})
    assert r.status_code == 201, r.text
    return r.json()


def _wait(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_an_event_is_delivered_signed_in_its_catalog_shape(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url, event_types=["api_key.created"])
    receiver.secrets = [endpoint["secret"]]
    key = hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"}).json()
    [got] = receiver.wait(1)
    assert got.verified == {endpoint["secret"]: True}
    body = got.json
    assert set(body) == {"id", "type", "created_at", "tenant_id", "data"}
    assert body["type"] == "api_key.created" and body["tenant_id"] == tenant["id"] and got.id == body["id"]
    assert body["data"] == key["api_key"]  # the key in its spec's shape, never its plaintext


def test_500_500_200_is_three_attempts_with_one_webhook_id(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url)
    receiver.secrets, receiver.script = [endpoint["secret"]], [500, 500, 200]
    hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
    got = receiver.wait(3)
    assert len({r.id for r in got}) == 1
    assert all(r.verified[endpoint["secret"]] for r in got)
    assert len({r.headers["webhook-timestamp"] for r in got}) >= 1
    path = f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries"
    [delivery] = _wait(lambda: [d for d in hooks.get(path).json()["items"] if d["status"] == "delivered"])
    assert [a.get("status_code") for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["event_type"] == "api_key.created"
    time.sleep(0.3)
    assert len(receiver.received) == 3  # nothing more once delivered


def test_a_dead_delivery_is_a_failure_and_replay_delivers_it_with_its_id(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url)
    receiver.secrets, receiver.script = [endpoint["secret"]], [500, 503, 500]
    hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
    receiver.wait(3)
    x = {"x-tenant-id": tenant["id"]}
    [dead] = _wait(
        lambda: [d for d in hooks.get("/v1/webhooks/failures", headers=x).json()["items"] if d["status"] == "dead"]
    )
    assert dead["endpoint_id"] == endpoint["id"] and len(dead["attempts"]) == 3
    r = hooks.post(f"/v1/webhooks/deliveries/{dead['id']}/replay", headers=x)
    assert r.status_code == 202, r.text
    got = receiver.wait(4)
    assert got[3].id == got[0].id and got[3].verified[endpoint["secret"]]
    # a replay is pending at once (so no failure any more), and delivered a moment later
    [health] = _wait(
        lambda: [h for h in hooks.get("/v1/webhooks/health", headers=x).json()["items"] if h["last_success_at"]]
    )
    assert health["endpoint_id"] == endpoint["id"] and health["backlog"] == 0 and health["failing_since"] is None
    assert hooks.get("/v1/webhooks/failures", headers=x).json()["items"] == []


def test_during_a_rotation_both_secrets_sign(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url)
    rotated = hooks.post(
        f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers={"x-tenant-id": tenant["id"]}
    )
    new = rotated.json()["secret"]
    receiver.secrets = [endpoint["secret"], new]
    hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
    [got] = receiver.wait(1)
    assert got.verified == {endpoint["secret"]: True, new: True}
    assert len(got.headers["webhook-signature"].split(" ")) == 2


def test_after_the_grace_period_only_the_new_secret_signs(store, receiver):
    from tests.helpers import ADMIN
    from tests.webhooks.conftest import delivering_app

    with delivering_app(store, CHARTER_WEBHOOK_ROTATION_GRACE_S="1").test_client(headers=ADMIN) as hooks:
        tenant = create_tenant(hooks)
        endpoint = _endpoint(hooks, tenant, receiver.url)
        x = {"x-tenant-id": tenant["id"]}
        new = hooks.post(f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=x).json()["secret"]
        receiver.secrets = [endpoint["secret"], new]
        hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
        [during] = receiver.wait(1)
        assert during.verified == {endpoint["secret"]: True, new: True}
        time.sleep(1.2)  # the grace period is over
        hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
        [_, after] = receiver.wait(2)
    assert after.verified == {endpoint["secret"]: False, new: True}
    assert len(after.headers["webhook-signature"].split(" ")) == 1


def test_a_410_disables_the_endpoint_and_is_audited(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url)
    receiver.script = [410]
    hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
    receiver.wait(1)
    x = {"x-tenant-id": tenant["id"]}
    _wait(lambda: hooks.get(f"/v1/webhooks/endpoints/{endpoint['id']}", headers=x).json()["disabled"])
    [event] = _wait(lambda: audit(hooks, action="webhook_endpoint.disabled", tenant_id=tenant["id"]))
    assert event["metadata"]["reason"] == "gone"
    hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": "ci"})
    time.sleep(0.3)
    assert len(receiver.received) == 1  # a disabled endpoint gets nothing


def test_grants_and_removals_are_published(hooks, receiver):
    tenant = create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url, event_types=["entitlement.created", "entitlement.removed"])
    receiver.secrets = [endpoint["secret"]]
    r = hooks.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "compliance"})
    assert r.status_code == 201, r.text
    assert hooks.delete(f"/v1/entitlements/{tenant['id']}/compliance").status_code == 204
    got = receiver.wait(2)
    by_type = {g.json["type"]: g for g in got}
    assert set(by_type) == {"entitlement.created", "entitlement.removed"}
    assert all(g.verified == {endpoint["secret"]: True} for g in got)
    assert by_type["entitlement.created"].json["data"] == r.json()
    assert by_type["entitlement.removed"].json["data"] == r.json()  # as it was


def test_trials_are_published_as_entitlement_created(hooks, receiver):
    tenant = create_tenant(hooks)
    _endpoint(hooks, tenant, receiver.url, event_types=["entitlement.created"])
    r = hooks.post("/v1/catalog/trial-request", json={"tenant_id": tenant["id"], "product": "analytics"})
    assert r.status_code in (200, 201), r.text
    [got] = receiver.wait(1)
    assert got.json["type"] == "entitlement.created" and got.json["data"]["product"] == "analytics"


def test_deliveries_page_newest_first_filter_by_status_and_hide_other_tenants(hooks, receiver):
    tenant, other = create_tenant(hooks), create_tenant(hooks)
    endpoint = _endpoint(hooks, tenant, receiver.url, event_types=["api_key.created"])
    for n in range(3):
        hooks.post("/v1/api-keys", json={"tenant_id": tenant["id"], "name": f"k{n}"})
    receiver.wait(3)
    x = {"x-tenant-id": tenant["id"]}
    path = f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries"
    _wait(lambda: len(hooks.get(path, params={"status": "delivered"}, headers=x).json()["items"]) == 3)
    first = hooks.get(path, params={"limit": 2}, headers=x).json()
    rest = hooks.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=x).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and "next_cursor" not in rest
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert len(set(ids)) == 3
    assert hooks.get(path, params={"status": "dead"}, headers=x).json()["items"] == []
    theirs = {"x-tenant-id": other["id"]}
    assert hooks.get(path, headers=theirs).status_code == 404
    assert hooks.post(f"/v1/webhooks/deliveries/{ids[0]}/replay", headers=theirs).status_code == 404
    assert (
        hooks.post(
            f"/v1/webhooks/endpoints/{endpoint['id']}/replay", json={"since": "2020-01-01T00:00:00Z"}, headers=theirs
        ).status_code
        == 404
    )
    replayed = hooks.post(
        f"/v1/webhooks/endpoints/{endpoint['id']}/replay", json={"since": "2020-01-01T00:00:00Z"}, headers=x
    )
    assert replayed.status_code == 202 and replayed.json() == {"replayed": 3}
    got = receiver.wait(6)
    assert {r.id for r in got[3:]} == {r.id for r in got[:3]}  # each message again, with its own id
