"""/v1/admin/webhook-endpoints: the platform's webhook endpoints of the tenant, for licensing events."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN, assert_error, bearer, settings
from tests.identity.helpers import session
from tests.licensing.helpers import licensed_tenant, prefix

HOOK = "http://127.0.0.1:9/hooks"


@pytest.fixture
def hooks(store):
    from server.app import create_app

    app = create_app(store=store, settings=settings(CHARTER_WEBHOOK_ALLOW_PRIVATE="1"))
    with app.test_client(headers=ADMIN) as c:
        yield c


def test_an_endpoint_made_here_is_a_platform_endpoint_of_licensing_events(hooks, store):
    from services.licensing.webhook_endpoints import events

    tenant = licensed_tenant(hooks)
    p = prefix(tenant)
    admin = bearer(session(hooks, store, ["tenant_admin"], tenant["id"])["access_token"])
    r = hooks.post(f"{p}/v1/admin/webhook-endpoints", json={"url": HOOK}, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["tenant_id"] == tenant["id"]
    assert sorted(made["event_types"]) == sorted(events()) and "license.issued" in made["event_types"]
    assert "tenant.created" not in made["event_types"]
    platform = hooks.get(f"/v1/webhooks/endpoints/{made['id']}", headers=admin)
    assert platform.status_code == 200 and platform.json()["url"] == HOOK  # the same endpoint
    only = {"url": HOOK, "event_types": ["license.revoked"]}
    assert hooks.post(f"{p}/v1/admin/webhook-endpoints", json=only, headers=admin).status_code == 201
    assert_error(
        hooks.post(f"{p}/v1/admin/webhook-endpoints", json={"url": HOOK, "event_types": ["tenant.created"]}),
        400,
        "unknown_event_type",
    )
    # an endpoint of other events is left out of this list; one of every event is in it
    other = {"url": HOOK, "event_types": ["tenant.created"]}
    everything = {"url": HOOK}
    for body in (other, everything):
        r = hooks.post("/v1/webhooks/endpoints", json=body, headers={"x-tenant-id": tenant["id"]})
        assert r.status_code == 201, r.text
    listed = hooks.get(f"{p}/v1/admin/webhook-endpoints", headers=admin).json()["items"]
    assert len(listed) == 3 and all(e["event_types"] != ["tenant.created"] for e in listed)


def test_keys_with_the_webhooks_scope_and_nobody_else(hooks, store):
    tenant = licensed_tenant(hooks)
    p = prefix(tenant)
    admin = bearer(session(hooks, store, ["tenant_admin"], tenant["id"])["access_token"])
    tokens = {}
    for role in ("full-admin", "support"):
        r = hooks.post(f"{p}/v1/admin/api-keys", json={"label": role, "role": role}, headers=admin)
        assert r.status_code == 201, r.text
        tokens[role] = bearer(r.json()["token"])
    r = hooks.post(f"{p}/v1/admin/webhook-endpoints", json={"url": HOOK}, headers=tokens["full-admin"])
    assert r.status_code == 201, r.text
    assert hooks.get(f"{p}/v1/admin/webhook-endpoints", headers=tokens["full-admin"]).status_code == 200
    assert_error(hooks.get(f"{p}/v1/admin/webhook-endpoints", headers=tokens["support"]), 403)
    stranger = bearer(session(hooks, store, ["tenant_admin"], licensed_tenant(hooks)["id"])["access_token"])
    assert_error(hooks.get(f"{p}/v1/admin/webhook-endpoints", headers=stranger), 404, "not_found")
    assert_error(hooks.post(f"{p}/v1/admin/webhook-endpoints", json={"url": HOOK}, headers=stranger), 404)
