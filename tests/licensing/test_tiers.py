"""Tier caps by the tenant's plan (402 `tier_cap` with `upgrade_url`), GET /v1/admin/tier, and
rotating the issuer key: through the real app, every answer checked against the served document."""

from __future__ import annotations

from tests.helpers import assert_error, audit, bearer
from tests.identity.helpers import session
from tests.licensing.helpers import code, issue, licensed_tenant, prefix, product


def _admin_of(client, store, tenant) -> dict:
    return bearer(session(client, store, ["tenant_admin"], tenant["id"])["access_token"])


def test_a_starter_tenant_stops_at_five_products_with_an_upgrade_url(client, store):
    tenant = licensed_tenant(client)  # plan: starter, the default
    p = prefix(tenant)
    for n in range(5):
        product(client, tenant, slug=f"app-{n}", active=n % 2 == 0)  # inactive products count too
    capped = assert_error(client.post(f"{p}/v1/admin/products", json={"slug": "six", "name": "Six"}), 402, "tier_cap")
    assert capped["upgrade_url"].endswith("/v1/catalog")
    assert (capped["limit"], capped["usage"], capped["resource"]) == (5, 5, "products")
    assert "six" not in str(client.get(f"{p}/v1/admin/products").json())
    tier = client.get(f"{p}/v1/admin/tier", headers=_admin_of(client, store, tenant))
    assert tier.status_code == 200, tier.text
    body = tier.json()
    assert body["plan"] == "starter" and body["caps"] == {"products": 5, "active_codes": 10}
    assert body["usage"] == {"products": 5, "active_codes": 0} and body["upgrade_url"] == capped["upgrade_url"]


def test_codes_cap_at_ten_live_ones_and_bigger_plans_have_more_room(client):
    starter = licensed_tenant(client)
    product(client, starter)
    for n in range(10):
        code(client, starter, code=f"CODE{n}", percent_off=10)
    capped = assert_error(
        client.post(f"{prefix(starter)}/v1/admin/discount-codes", json={"percent_off": 5}), 402, "tier_cap"
    )
    assert (capped["limit"], capped["resource"]) == (10, "active_codes")
    pro = licensed_tenant(client, plan="pro")
    for n in range(6):
        product(client, pro, slug=f"app-{n}")
    enterprise = licensed_tenant(client, plan="enterprise")
    tier = client.get(f"{prefix(enterprise)}/v1/admin/tier").json()
    assert tier["caps"] == {"products": None, "active_codes": None}
    odd = licensed_tenant(client, plan="custom-deal")  # a plan without caps of its own gets starter's
    assert client.get(f"{prefix(odd)}/v1/admin/tier").json()["caps_plan"] == "starter"


def test_only_a_tenant_admin_reads_the_tier(client, store):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    admin = _admin_of(client, store, tenant)
    r = client.post(f"{p}/v1/admin/api-keys", json={"label": "ops", "role": "full-admin"}, headers=admin)
    assert r.status_code == 201, r.text
    assert_error(client.get(f"{p}/v1/admin/tier", headers=bearer(r.json()["token"])), 401)
    member = bearer(session(client, store, ["tenant_member"], tenant["id"])["access_token"])
    assert_error(client.get(f"{p}/v1/admin/tier", headers=member), 403)
    stranger = _admin_of(client, store, licensed_tenant(client))
    assert_error(client.get(f"{p}/v1/admin/tier", headers=stranger), 404, "not_found")


def test_a_rotation_signs_new_licenses_with_a_new_key_and_keeps_the_old_ones_valid(app, client, anonymous, store):
    from uuid import UUID

    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from keysat_licensing_client import PublicKey, Verifier

    from services.licensing.settings import Licensing

    tenant = licensed_tenant(client)
    p = prefix(tenant)
    product(client, tenant)
    before = issue(client, tenant)
    old_pem = anonymous.get(f"{p}/v1/pubkey").json()["public_key_pem"]
    r = client.post(f"{p}/v1/admin/issuer/rotate", headers=_admin_of(client, store, tenant))
    assert r.status_code == 200, r.text
    keys = r.json()
    assert keys["public_key_pem"] != old_pem and [k["signing"] for k in keys["keys"]] == [True, False]
    assert keys["keys"][1]["public_key_pem"] == old_pem and keys["keys"][1]["retired_at"]
    assert anonymous.get(f"{p}/v1/pubkey").json() == keys
    after = issue(client, tenant)
    for lic in (before, after):
        assert anonymous.post(f"{p}/v1/validate", json={"key": lic["license_key"]}).json()["ok"] is True
    old, new = Verifier(PublicKey.from_pem(old_pem)), Verifier(PublicKey.from_pem(keys["public_key_pem"]))
    assert _verifies(old, before["license_key"]) and _verifies(new, after["license_key"])
    assert not _verifies(old, after["license_key"]) and not _verifies(new, before["license_key"])
    load_pem_public_key(keys["public_key_pem"].encode())
    # the license issued before keeps its key, byte for byte: still derived with the retired key
    with store.read() as s:
        lic = s.licenses.get(UUID(before["id"]))
        assert lic is not None and app.services.get(Licensing).issuer.key_text(s, lic) == before["license_key"]
    event = audit(client, action="issuer_key.rotated")
    assert len(event) == 1 and event[0]["tenant_id"] == tenant["id"]


def _verifies(verifier, key: str) -> bool:
    from keysat_licensing_client import LicensingError

    try:
        verifier.verify(key)
    except LicensingError as refused:
        assert refused.kind == "bad_signature", refused
        return False
    return True


def test_a_key_or_a_support_session_cannot_rotate(client, store):
    tenant = licensed_tenant(client)
    p = prefix(tenant)
    admin = _admin_of(client, store, tenant)
    r = client.post(f"{p}/v1/admin/api-keys", json={"label": "ops", "role": "full-admin"}, headers=admin)
    assert_error(client.post(f"{p}/v1/admin/issuer/rotate", headers=bearer(r.json()["token"])), 401)
    stranger = _admin_of(client, store, licensed_tenant(client))
    assert_error(client.post(f"{p}/v1/admin/issuer/rotate", headers=stranger), 404, "not_found")
