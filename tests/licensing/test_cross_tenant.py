"""A cross-tenant probe on every admin route of the licensing API: the tenant_admin of tenant A,
at tenant B's prefix and with B's real object ids and well-formed bodies, gets 404 `not_found` on
each one, and B's objects are as they were. PROBES must name every admin operation of
specs/licensing.yaml, so a new admin route fails this test until it is probed too."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN, assert_error, bearer, settings
from tests.identity.helpers import session
from tests.licensing.helpers import issue, licensed_tenant, policy, prefix, product

HOOK = "http://127.0.0.1:9/hooks"
# "METHOD path" -> (query, body), with {license}, {product}, {policy}, {machine}, {invoice},
# {api_key} and {subscription} standing for B's objects.
PROBES: dict[str, tuple[dict, dict | None]] = {
    "GET /v1/admin/products": ({}, None),
    "POST /v1/admin/products": ({}, {"slug": "stolen", "name": "Stolen"}),
    "GET /v1/admin/products/{product_id}": ({}, None),
    "PATCH /v1/admin/products/{product_id}": ({}, {"name": "Renamed"}),
    "GET /v1/admin/policies": ({"product_slug": "app", "include_archived": "true"}, None),
    "POST /v1/admin/policies": ({}, {"product_slug": "app", "slug": "stolen", "name": "Stolen"}),
    "PATCH /v1/admin/policies/{policy_id}/archived": ({}, {"archived": True}),
    "GET /v1/admin/licenses": ({"product_id": "{product}"}, None),
    "POST /v1/admin/licenses": ({}, {"product_slug": "app"}),
    "GET /v1/admin/licenses/search": ({"invoice_id": "{invoice}"}, None),
    "GET /v1/admin/licenses/{license_id}": ({}, None),
    "POST /v1/admin/licenses/{license_id}/revoke": ({}, {"reason": "probe"}),
    "POST /v1/admin/licenses/{license_id}/suspend": ({}, {"reason": "probe"}),
    "POST /v1/admin/licenses/{license_id}/unsuspend": ({}, {"reason": "probe"}),
    "GET /v1/admin/machines": ({"license_id": "{license}"}, None),
    "POST /v1/admin/machines/{machine_id}/deactivate": ({}, None),
    "GET /v1/admin/discount-codes": ({}, None),
    "POST /v1/admin/discount-codes": ({}, {"percent_off": 100}),
    "GET /v1/admin/invoices": ({"status": "pending"}, None),
    "POST /v1/admin/invoices/{invoice_id}/mark-paid": ({}, None),
    "GET /v1/admin/api-keys": ({}, None),
    "POST /v1/admin/api-keys": ({}, {"label": "stolen", "role": "full-admin"}),
    "DELETE /v1/admin/api-keys/{api_key_id}": ({}, None),
    "POST /v1/admin/licenses/{license_id}/change-tier": ({}, {"policy_slug": "solo"}),
    "GET /v1/admin/subscriptions": ({"status": "active"}, None),
    "POST /v1/admin/subscriptions/{subscription_id}/cancel": ({}, None),
    "GET /v1/admin/tier": ({}, None),
    "POST /v1/admin/issuer/rotate": ({}, None),
    "GET /v1/admin/webhook-endpoints": ({}, None),
    "POST /v1/admin/webhook-endpoints": ({}, {"url": HOOK}),
    "GET /v1/admin/payments/{provider}/webhook-secret": ({}, None),
}
PARAMS = {
    "{product_id}": "{product}",
    "{policy_id}": "{policy}",
    "{license_id}": "{license}",
    "{machine_id}": "{machine}",
    "{invoice_id}": "{invoice}",
    "{api_key_id}": "{api_key}",
    "{subscription_id}": "{subscription}",
    "{provider}": "manual",
}


def test_the_probe_names_every_admin_operation():
    from charter import specs

    doc = specs.load(specs.SPECS_DIR / "licensing.yaml")
    admin = {
        f"{m.upper()} {p.removeprefix('/licensing/{tenant_slug}')}"
        for m, p, _ in specs.operations(doc)
        if "/v1/admin/" in p
    }
    assert admin == set(PROBES)


@pytest.fixture
def served(store):
    from server.app import create_app

    app = create_app(store=store, settings=settings(CHARTER_WEBHOOK_ALLOW_PRIVATE="1"))
    with app.test_client(headers=ADMIN) as c:
        yield c


def _victim(c, store) -> tuple[dict, dict[str, str], dict]:
    """Tenant B with one of everything; (B, its object ids, what B's own admin reads of them)."""
    b = licensed_tenant(c)
    p = prefix(b)
    made = {"product": product(c, b, price_value=5000)["id"]}
    made["policy"] = policy(c, b, slug="team", max_machines=3)["id"]
    policy(c, b, slug="solo", max_machines=1)
    policy(c, b, slug="monthly", is_recurring=True, renewal_period_days=30)
    lic = issue(c, b, policy_slug="team")
    made["license"] = lic["id"]
    made["subscription"] = issue(c, b, policy_slug="monthly")["id"]
    activated = c.post(f"{p}/v1/machines/activate", json={"key": lic["license_key"], "fingerprint": "fp-b"})
    made["machine"] = activated.json()["machine_id"]
    bought = c.post(f"{p}/v1/purchase", json={"product": "app", "policy_slug": "team"})
    assert bought.status_code == 200, bought.text
    made["invoice"] = bought.json()["invoice_id"]
    owner = bearer(session(c, store, ["tenant_admin"], b["id"])["access_token"])
    key = c.post(f"{p}/v1/admin/api-keys", json={"label": "b", "role": "read-only"}, headers=owner)
    made["api_key"] = key.json()["id"]
    return b, made, _state(c, b, owner)


def _state(c, b: dict, owner: dict) -> dict:
    p = prefix(b)
    return {
        path: c.get(f"{p}{path}", headers=owner).json()
        for path in (
            "/v1/admin/products",
            "/v1/admin/policies?include_archived=true",
            "/v1/admin/licenses",
            "/v1/admin/machines",
            "/v1/admin/discount-codes",
            "/v1/admin/invoices",
            "/v1/admin/api-keys",
            "/v1/admin/subscriptions",
            "/v1/admin/webhook-endpoints",
            "/v1/pubkey",
        )
    }


def _fill(text: str, ids: dict[str, str]) -> str:
    for param, name in PARAMS.items():
        text = text.replace(param, name)
    for name, value in ids.items():
        text = text.replace("{" + name + "}", value)
    return text


def test_another_tenants_admin_gets_404_on_every_admin_route_and_changes_nothing(served, store):
    b, ids, before = _victim(served, store)
    stranger = bearer(session(served, store, ["tenant_admin"], licensed_tenant(served)["id"])["access_token"])
    for op, (query, body) in PROBES.items():
        method, path = op.split(" ", 1)
        r = served.request(
            method,
            prefix(b) + _fill(path, ids),
            params={k: _fill(v, ids) for k, v in query.items()},
            json=body,
            headers=stranger,
        )
        assert r.status_code == 404, f"{op}: {r.status_code} {r.text}"
        assert_error(r, 404, "not_found")
    owner = bearer(session(served, store, ["tenant_admin"], b["id"])["access_token"])
    assert _state(served, b, owner) == before


def test_the_public_paths_of_one_tenant_do_nothing_with_another_tenants_objects(served, anonymous, store):
    """Anyone may call a tenant's public service, but B's invoice, keys, codes and products are
    nothing at A's prefix: each answers as a never-issued one would, and B's state is unchanged."""
    b, ids, _ = _victim(served, store)
    key = issue(served, b, policy_slug="monthly", buyer_email="b@example.com")["license_key"]
    b_code = served.post(f"{prefix(b)}/v1/admin/discount-codes", json={"percent_off": 100}).json()["code"]
    owner = bearer(session(served, store, ["tenant_admin"], b["id"])["access_token"])
    before = _state(served, b, owner)
    a = licensed_tenant(served)
    product(served, a, slug="other-app")
    policy(served, a, product_slug="other-app", slug="team")
    p = prefix(a)
    checks = [
        ("GET", f"/v1/purchase/{ids['invoice']}", None, 404, "invoice_not_found"),
        ("GET", "/v1/products/app/policies", None, 404, None),
        ("POST", "/v1/redeem", {"code": b_code, "product": "other-app"}, 400, "invalid_code"),
        ("POST", "/v1/recover", {"invoice_id": ids["invoice"], "email": "b@example.com"}, 404, "not_found"),
        ("POST", "/v1/subscriptions/cancel", {"license_key": key}, 404, "not_found"),
        ("POST", "/v1/upgrade-quote", {"license_key": key, "policy_slug": "team"}, 404, "not_found"),
        ("POST", "/v1/upgrade", {"license_key": key, "policy_slug": "team"}, 404, "not_found"),
    ]
    for method, path, body, status, code_ in checks:
        r = anonymous.request(method, p + path, json=body)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        if code_:
            assert_error(r, status, code_)
    for path in ("/v1/validate", "/v1/machines/activate", "/v1/machines/heartbeat", "/v1/machines/deactivate"):
        r = anonymous.post(p + path, json={"key": key, "fingerprint": "fp-stranger"})
        assert r.status_code == 200 and r.json()["ok"] is False, f"{path}: {r.text}"
        assert r.json()["reason"] == "bad_signature", f"{path}: {r.text}"
    assert _state(served, b, owner) == before
