"""Subscriptions through the real app on every store: a recurring tier's license is a
subscription; the renewal job renews a free one at once, and a paid one through a renewal
invoice (past_due until settled, ended when it expires unpaid); cancel (admin, or the buyer by
key) lets the license run to its period's end, then the subscription ends."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from tests.helpers import assert_error, audit
from tests.licensing.helpers import issue, licensed_tenant, policy, prefix, product


def _run(app, job) -> None:
    from charter.domain import JOB, Actor
    from charter.jobs import Context

    job(Context(app.services, Actor(JOB, "licensing.renew_subscriptions"), SimpleNamespace(args={}), lambda *a: None))


def _renew(app) -> None:
    from services.licensing.subscriptions import renew_due

    _run(app, renew_due)


def _expire_invoices(app) -> None:
    from services.licensing.purchases import expire_invoices

    _run(app, expire_invoices)


@pytest.fixture
def shop(client):
    return _shop(client)


def _shop(client) -> dict:
    tenant = licensed_tenant(client)
    product(client, tenant)  # 5000 SAT
    # one-second periods, so a test can see them end
    policy(client, tenant, slug="monthly", is_recurring=True, duration_seconds=1, grace_seconds=3600)
    policy(client, tenant, slug="free", is_recurring=True, duration_seconds=1, price_sats_override=0)
    policy(client, tenant, slug="once", duration_seconds=3600)
    return tenant


def _subs(client, tenant, **params) -> list[dict]:
    r = client.get(f"{prefix(tenant)}/v1/admin/subscriptions", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_recurring_license_is_a_subscription(client, shop):
    lic = issue(client, shop, policy_slug="monthly", buyer_email="b@example.com")
    issue(client, shop, policy_slug="once")
    assert lic["subscription"] == "active"
    [sub] = _subs(client, shop)
    assert sub["id"] == lic["id"] and sub["status"] == "active" and sub["renews"]
    assert sub["current_period_end"] == lic["expires_at"] and sub["buyer_email"] == "b@example.com"
    assert _subs(client, shop, status="cancelled") == []
    assert_error(
        client.post(
            f"{prefix(shop)}/v1/admin/policies",
            json={"product_slug": "app", "slug": "x", "name": "X", "is_recurring": True},
        ),
        400,
        "recurring_needs_period",
    )


def test_a_free_subscription_renews_at_once(client, app, shop):
    lic = issue(client, shop, policy_slug="free")
    time.sleep(1.1)
    _renew(app)
    renewed = client.get(f"{prefix(shop)}/v1/admin/licenses/{lic['id']}").json()
    assert renewed["expires_at"] > lic["expires_at"] and renewed["subscription"] == "active"
    [event] = audit(client, action="license.renewed")
    assert event["target_id"] == lic["id"]


def test_a_paid_renewal_waits_on_its_invoice(client, app, anonymous, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="monthly")
    time.sleep(1.1)
    _renew(app)
    _renew(app)  # a second run opens no second invoice
    [sub] = _subs(client, shop, status="past_due")
    invoices = [i for i in client.get(f"{p}/v1/admin/invoices").json()["items"] if i["kind"] == "renewal"]
    assert len(invoices) == 1 and invoices[0]["license_id"] == lic["id"] and invoices[0]["amount"] == 5000
    # inside its grace the license still validates
    assert anonymous.post(f"{p}/v1/validate", json={"key": lic["license_key"]}).json()["ok"]
    assert client.post(f"{p}/v1/admin/invoices/{invoices[0]['id']}/mark-paid").status_code == 200
    renewed = client.get(f"{p}/v1/admin/licenses/{lic['id']}").json()
    assert renewed["subscription"] == "active" and renewed["expires_at"] > lic["expires_at"]
    assert len(audit(client, action="license.renewed")) == 1
    assert len(client.get(f"{p}/v1/admin/licenses").json()["items"]) == 1


def test_an_unpaid_renewal_ends_the_subscription(store):
    from server.app import create_app
    from tests.helpers import ADMIN, settings

    app = create_app(store=store, settings=settings(CHARTER_LICENSING_INVOICE_TTL_S="1"))
    with app.test_client(headers=ADMIN) as client:
        shop = _shop(client)
        lic = issue(client, shop, policy_slug="monthly")
        time.sleep(1.1)
        _renew(app)
        assert _subs(client, shop)[0]["status"] == "past_due"
        time.sleep(1.1)  # its renewal invoice expires unpaid
        _expire_invoices(app)
        [sub] = _subs(client, shop)
        assert sub["id"] == lic["id"] and sub["status"] == "ended" and not sub["renews"]
        assert audit(client, action="subscription.ended")[0]["target_id"] == lic["id"]


def test_cancel_runs_to_the_period_end_then_ends(client, app, anonymous, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="monthly")
    r = client.post(f"{p}/v1/admin/subscriptions/{lic['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and not r.json()["renews"] and r.json()["cancelled_at"]
    again = client.post(f"{p}/v1/admin/subscriptions/{lic['id']}/cancel")
    assert again.status_code == 200 and again.json()["cancelled_at"] == r.json()["cancelled_at"]  # idempotent
    assert anonymous.post(f"{p}/v1/validate", json={"key": lic["license_key"]}).json()["ok"]
    time.sleep(1.1)
    _renew(app)
    assert _subs(client, shop)[0]["status"] == "ended"
    assert_error(client.post(f"{p}/v1/admin/subscriptions/{lic['id']}/cancel"), 409, "invalid_transition")
    assert [i for i in client.get(f"{p}/v1/admin/invoices").json()["items"] if i["kind"] == "renewal"] == []


def test_the_buyer_cancels_by_key(client, anonymous, shop):
    p = prefix(shop)
    lic = issue(client, shop, policy_slug="monthly")
    once = issue(client, shop, policy_slug="once")
    r = anonymous.post(f"{p}/v1/subscriptions/cancel", json={"license_key": lic["license_key"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert audit(client, action="subscription.cancelled")[0]["target_id"] == lic["id"]
    assert_error(
        anonymous.post(f"{p}/v1/subscriptions/cancel", json={"license_key": once["license_key"]}),
        409,
        "not_a_subscription",
    )
    assert_error(anonymous.post(f"{p}/v1/subscriptions/cancel", json={"license_key": "garbage"}), 404, "not_found")
    # another tenant's key, at another tenant's prefix: the same 404
    other = licensed_tenant(client)
    assert_error(
        anonymous.post(f"{prefix(other)}/v1/subscriptions/cancel", json={"license_key": lic["license_key"]}),
        404,
        "not_found",
    )


def test_admin_cancel_of_another_tenant_is_404(client, store, shop):
    from tests.helpers import bearer
    from tests.identity.helpers import session

    lic = issue(client, shop, policy_slug="monthly")
    theirs = licensed_tenant(client)
    stranger = bearer(session(client, store, ["tenant_admin"], theirs["id"])["access_token"])
    assert_error(
        client.post(f"{prefix(shop)}/v1/admin/subscriptions/{lic['id']}/cancel", headers=stranger), 404, "not_found"
    )
    assert_error(client.get(f"{prefix(shop)}/v1/admin/subscriptions", headers=stranger), 404, "not_found")
    assert_error(
        client.post(f"{prefix(theirs)}/v1/admin/subscriptions/{lic['id']}/cancel", headers=stranger),
        404,
        "subscription_not_found",
    )
