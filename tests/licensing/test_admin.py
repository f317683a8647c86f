"""The admin paths through the real app (every answer checked against the served document): who
may call them, their rules and codes, the scoped licensing API keys, and tenancy."""

from __future__ import annotations

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import session
from tests.licensing.helpers import code, issue, licensed_tenant, policy, prefix, product


def _admin_of(client, store, tenant) -> dict:
    return bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])


def test_a_tenant_admin_runs_its_own_licensing_and_a_member_reads(client, store):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    admin = _admin_of(client, store, tenant)
    member = bearer(session(client, store, ["tenant_member"], tenant["id"])["access_token"])
    r = client.post(f"{p}/v1/admin/products", json={"slug": "app", "name": "App"}, headers=admin)
    assert r.status_code == 201, r.text
    assert client.get(f"{p}/v1/admin/products", headers=member).json()["items"][0]["slug"] == "app"
    assert_error(
        client.post(f"{p}/v1/admin/products", json={"slug": "x", "name": "X"}, headers=member), 403, "forbidden"
    )
    assert audit(client, action="license_product.created")[0]["tenant_id"] == tenant["id"]


def test_another_tenants_admin_gets_404_on_every_admin_path(client, store):
    mine, theirs = licensed_tenant(client), licensed_tenant(client)
    product(client, mine)
    lic = issue(client, mine)
    stranger = _admin_of(client, store, theirs)
    p = prefix(mine)
    for method, path in (
        ("GET", "/v1/admin/products"),
        ("GET", f"/v1/admin/licenses/{lic['id']}"),
        ("POST", f"/v1/admin/licenses/{lic['id']}/revoke"),
        ("GET", "/v1/admin/machines"),
        ("GET", "/v1/admin/invoices"),
    ):
        assert_error(client.request(method, p + path, headers=stranger), 404, "not_found")
    # and at its own prefix, another tenant's license is not found either
    assert_error(
        client.get(f"{prefix(theirs)}/v1/admin/licenses/{lic['id']}", headers=stranger), 404, "license_not_found"
    )


def test_without_the_entitlement_everything_is_404(client, anonymous):
    from tests.helpers import create_tenant

    bare = create_tenant(client)
    p = f"/licensing/{bare['slug']}"
    assert_error(client.get(f"{p}/v1/admin/products"), 404, "not_found")
    assert_error(anonymous.post(f"{p}/v1/validate", json={"key": "x"}), 404, "not_found")
    assert_error(anonymous.get(f"{p}/v1/pubkey"), 404, "not_found")
    assert_error(anonymous.get("/licensing/Not_A_Slug/v1/pubkey"), 400)


def test_rules_and_their_codes(client):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    product(client, tenant)
    assert_error(client.post(f"{p}/v1/admin/products", json={"slug": "app", "name": "Again"}), 409, "slug_taken")
    bad = {"product_slug": "app", "slug": "x", "name": "X", "entitlements": ["nope"]}
    assert_error(client.post(f"{p}/v1/admin/policies", json=bad), 400, "unknown_entitlement")
    assert_error(
        client.post(f"{p}/v1/admin/policies", json={**bad, "product_slug": "none", "entitlements": []}),
        404,
        "product_not_found",
    )
    lic = issue(client, tenant)
    for _ in range(2):
        r = client.post(f"{p}/v1/admin/licenses/{lic['id']}/revoke", json={"reason": "chargeback"})
        assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["status_reason"] == "chargeback"
    assert_error(client.post(f"{p}/v1/admin/licenses/{lic['id']}/suspend"), 409, "invalid_transition")
    assert len(audit(client, action="license.revoked")) == 1
    code(client, tenant, code="SAVE10", percent_off=10)
    assert_error(
        client.post(f"{p}/v1/admin/discount-codes", json={"code": "save10", "percent_off": 5}), 409, "code_taken"
    )
    listed = client.get(f"{p}/v1/admin/discount-codes").json()["items"]
    assert "SAVE10" not in str(listed)  # only its hash is kept


def test_archived_policies_leave_the_public_tiers_but_their_licenses_validate(client, anonymous):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    product(client, tenant)
    team = policy(client, tenant, slug="team")
    key = issue(client, tenant, policy_slug="team")["license_key"]
    r = client.patch(f"{p}/v1/admin/policies/{team['id']}/archived", json={"archived": True})
    assert r.status_code == 200 and r.json()["archived_at"]
    assert anonymous.get(f"{p}/v1/products/app/policies").json()["policies"] == []
    assert anonymous.post(f"{p}/v1/validate", json={"key": key}).json()["ok"]
    assert_error(
        anonymous.post(f"{p}/v1/purchase", json={"product": "app", "policy_slug": "team"}), 400, "policy_unavailable"
    )


def test_scoped_api_keys_grant_their_role_and_nothing_more(client, store):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    product(client, tenant)
    admin = _admin_of(client, store, tenant)
    r = client.post(f"{p}/v1/admin/api-keys", json={"label": "crm", "role": "license-issuer"}, headers=admin)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["role"] == "license-issuer" and made["token"].startswith("bp_")
    key = bearer(made["token"])
    assert client.post(f"{p}/v1/admin/licenses", json={"product_slug": "app"}, headers=key).status_code == 201
    assert_error(client.post(f"{p}/v1/admin/products", json={"slug": "x", "name": "X"}, headers=key), 403, "forbidden")
    assert_error(client.get(f"{p}/v1/admin/api-keys", headers=key), 401)  # a key is no manager
    listed = client.get(f"{p}/v1/admin/api-keys", headers=admin).json()["items"]
    assert [k["id"] for k in listed] == [made["id"]] and "token" not in listed[0]
    for _ in range(2):
        r = client.delete(f"{p}/v1/admin/api-keys/{made['id']}", headers=admin)
        assert r.status_code == 200 and r.json()["revoked_at"]
    assert_error(client.get(f"{p}/v1/admin/licenses", headers=key), 401)
    other = licensed_tenant(client)
    assert_error(client.delete(f"{prefix(other)}/v1/admin/api-keys/{made['id']}"), 404, "api_key_not_found")
