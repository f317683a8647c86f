"""Tier changes through the real app on every store: an admin's comp keeps the license id and
re-derives its key (checked with the real Keysat client's offline verifier), and a buyer's
upgrade is quoted with proration, writes nothing until started, and moves the license when its
invoice is settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from keysat_licensing_client import PublicKey, Verifier

from tests.helpers import assert_error, audit
from tests.licensing.helpers import code, issue, licensed_tenant, policy, prefix, product

DAY = 86400


@pytest.fixture
def shop(client):
    tenant = licensed_tenant(client)
    product(client, tenant)  # 5000 SAT
    policy(client, tenant, slug="basic", max_machines=1, entitlements=["pro"], duration_seconds=30 * DAY)
    policy(
        client,
        tenant,
        slug="team",
        max_machines=5,
        entitlements=["pro", "export"],
        duration_seconds=30 * DAY,
        price_sats_override=9000,
    )
    return tenant


def _verifier(client, tenant) -> Verifier:
    return Verifier(PublicKey.from_pem(client.get(f"{prefix(tenant)}/v1/pubkey").json()["public_key_pem"]))


def test_change_tier_keeps_the_id_and_re_derives_the_key(client, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="basic")
    r = client.post(f"{p}/v1/admin/licenses/{lic['id']}/change-tier", json={"policy_slug": "team", "reason": "comp"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["id"] == lic["id"] and moved["policy_slug"] == "team"
    assert moved["entitlements"] == ["pro", "export"] and moved["max_machines"] == 5
    assert moved["license_key"] != lic["license_key"]
    verified = _verifier(client, shop).verify(moved["license_key"])
    assert str(verified.payload.license_id) == lic["id"] and list(verified.payload.entitlements) == ["pro", "export"]
    # the key is derived from the row: served again, byte-identical
    assert client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()["license_key"] == moved["license_key"]
    # the earlier key still validates online, answering with the license's new fields
    old = client.post(f"{p}/v1/validate", json={"key": lic["license_key"]}).json()
    assert old["ok"] and old["entitlements"] == ["pro", "export"]
    event = audit(client, action="license.tier_changed")[0]
    assert event["target_id"] == lic["id"] and event["metadata"]["from_policy"] == "basic"
    assert event["metadata"]["to_policy"] == "team" and event["metadata"]["how"] == "admin"


def test_change_tier_refusals(client, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="basic")
    url = f"{p}/v1/admin/licenses/{lic['id']}/change-tier"
    assert_error(client.post(url, json={"policy_slug": "basic"}), 409, "same_tier")
    assert_error(client.post(url, json={"policy_slug": "nope"}), 404, "policy_not_found")
    product(client, shop, slug="other")
    policy(client, shop, product_slug="other", slug="elsewhere")
    assert_error(client.post(url, json={"policy_slug": "elsewhere"}), 400, "policy_product_mismatch")
    assert_error(client.post(url, json={}), 400)
    stranger = licensed_tenant(client)
    assert_error(
        client.post(f"{prefix(stranger)}/v1/admin/licenses/{lic['id']}/change-tier", json={"policy_slug": "team"}),
        404,
        "license_not_found",
    )
    revoked = client.post(f"{p}/v1/admin/licenses/{lic['id']}/revoke", json={"reason": "refund"})
    assert revoked.status_code == 200, revoked.text
    assert_error(client.post(url, json={"policy_slug": "team"}), 409, "invalid_transition")
    assert client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()["policy_slug"] == "basic"


def test_quote_prorates_and_writes_nothing(client, anonymous, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="basic")
    before = len(audit(client))
    r = anonymous.post(f"{p}/v1/upgrade-quote", json={"license_key": lic["license_key"], "policy_slug": "team"})
    assert r.status_code == 200, r.text
    q = r.json()
    # a fresh 30-day basic license (5000) is credited almost in full against team (9000)
    assert q["price_sats"] == 9000 and 4990 <= q["credit_sats"] <= 5000
    assert q["amount_sats"] == q["price_sats"] - q["credit_sats"] and q["discount_applied_sats"] == 0
    assert q["from_policy"] == "basic" and q["to_policy"] == "team" and q["entitlements"] == ["pro", "export"]
    ends = datetime.fromisoformat(q["expires_at"].replace("Z", "+00:00"))
    assert abs(ends - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    code(client, shop, code="HALF", percent_off=50)
    half = anonymous.post(
        f"{p}/v1/upgrade-quote", json={"license_key": lic["license_key"], "policy_slug": "team", "code": "HALF"}
    ).json()
    assert (
        half["discount_applied_sats"] == q["amount_sats"] // 2
        or half["discount_applied_sats"] == (q["amount_sats"] + 1) // 2
    )
    assert len(audit(client)) == before + 1  # the code's creation; the quotes wrote nothing
    bad = {"license_key": "LIC1-AAAA-BBBB", "policy_slug": "team"}
    assert_error(anonymous.post(f"{p}/v1/upgrade-quote", json=bad), 404, "not_found")
    assert_error(
        anonymous.post(f"{p}/v1/upgrade-quote", json={"license_key": lic["license_key"], "policy_slug": "basic"}),
        409,
        "same_tier",
    )


def test_an_upgrade_moves_the_license_when_its_invoice_settles(client, anonymous, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="basic", buyer_email="buyer@example.com")
    r = anonymous.post(f"{p}/v1/upgrade", json={"license_key": lic["license_key"], "policy_slug": "team"})
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["status"] == "pending" and started["amount_sats"] > 0 and "license_key" not in started
    assert started["poll_url"].endswith(f"{p}/v1/purchase/{started['invoice_id']}")
    polled = anonymous.get(f"{p}/v1/purchase/{started['invoice_id']}").json()
    assert polled["status"] == "pending" and "license_key" not in polled
    still = client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()
    assert still["policy_slug"] == "basic"
    invoice = client.get(f"{p}/v1/admin/invoices").json()["items"][0]
    assert invoice["kind"] == "upgrade" and invoice["license_id"] == lic["id"]
    paid = client.post(f"{p}/v1/admin/invoices/{started['invoice_id']}/mark-paid")
    assert paid.status_code == 200, paid.text
    assert client.post(f"{p}/v1/admin/invoices/{started['invoice_id']}/mark-paid").status_code == 200  # idempotent
    moved = client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()
    assert moved["policy_slug"] == "team" and moved["entitlements"] == ["pro", "export"]
    polled = anonymous.get(f"{p}/v1/purchase/{started['invoice_id']}").json()
    assert polled["status"] == "settled" and polled["license_key"] == moved["license_key"]
    changes = audit(client, action="license.tier_changed")
    assert len(changes) == 1 and changes[0]["metadata"]["how"] == "upgrade"
    assert len(client.get(f"{p}/v1/admin/licenses", params={"limit": 500}).json()["items"]) == 1  # no new license


def test_an_upgrade_that_costs_nothing_settles_at_once(client, anonymous, shop):
    p = prefix(shop)
    policy(client, shop, slug="lite", entitlements=[], duration_seconds=30 * DAY, price_sats_override=0)
    lic = issue(client, shop, policy_slug="basic")
    r = anonymous.post(f"{p}/v1/upgrade", json={"license_key": lic["license_key"], "policy_slug": "lite"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "settled" and r.json()["amount_sats"] == 0
    assert r.json()["license_id"] == lic["id"]
    assert client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()["policy_slug"] == "lite"
