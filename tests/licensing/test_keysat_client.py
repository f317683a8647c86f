"""The real Keysat client (keysat-licensing-client 0.3.0, from PyPI) against the real app served
over HTTP, unmodified, on every store: offline verification of the keys we issue, validate for
each reason, seats, public tiers, redemption, purchase with a manual settle, and recovery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from keysat_licensing_client import Client, LicensingError, PublicKey, ValidateOptions, Verifier

from tests.helpers import ADMIN
from tests.licensing.helpers import code, issue, licensed_tenant, policy, prefix, product
from tools.server import running


@pytest.fixture
def served(app):
    with running(app) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=30) as admin:
        yield SimpleNamespace(base=base, admin=admin)


@pytest.fixture
def shop(served):
    """A tenant with a product, a three-seat policy and a single-seat one, and a Client at its prefix."""
    tenant = licensed_tenant(served.admin)
    product(served.admin, tenant)
    policy(served.admin, tenant, slug="team", max_machines=3, entitlements=["pro"], tier_rank=1)
    policy(served.admin, tenant, slug="solo", max_machines=1, price_sats_override=1000, tier_rank=2)
    client = Client(served.base + prefix(tenant))
    return SimpleNamespace(tenant=tenant, client=client, admin=served.admin, base=served.base)


def _verifier(client: Client) -> Verifier:
    return Verifier(PublicKey.from_pem(client.fetch_pubkey_pem()))


def test_keys_verify_offline_and_tampering_fails(shop):
    issued = issue(shop.admin, shop.tenant, policy_slug="team", is_trial=True)
    verifier = _verifier(shop.client)
    ok = verifier.verify(issued["license_key"])
    assert str(ok.payload.license_id) == issued["id"]
    assert str(ok.payload.product_id) == issued["product_id"]
    assert list(ok.payload.entitlements) == ["pro"] and ok.payload.is_trial
    assert ok.payload.expires_at == 0  # perpetual
    # the key is derived from the license: the same text every time it is served
    again = shop.admin.get(f"{prefix(shop.tenant)}/v1/admin/licenses/{issued['id']}").json()["license_key"]
    assert again == issued["license_key"]
    head, payload, signature = issued["license_key"].split("-")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    for bad in (f"{head}-{flipped}-{signature}",):
        with pytest.raises(LicensingError) as caught:
            verifier.verify(bad)
        assert caught.value.kind in ("bad_signature", "bad_format")
    assert shop.client.validate(f"{head}-{flipped}-{signature}").reason in ("bad_signature", "bad_format")


def test_another_tenants_key_fails_its_signature(shop, served):
    other = licensed_tenant(served.admin)
    product(served.admin, other)
    theirs = issue(served.admin, other)["license_key"]
    with pytest.raises(LicensingError) as caught:
        _verifier(shop.client).verify(theirs)
    assert caught.value.kind == "bad_signature"
    answer = shop.client.validate(theirs)
    assert not answer.ok and answer.reason == "bad_signature"
    assert Client(served.base + prefix(other)).validate(theirs).ok


def test_an_expired_key_fails_offline_and_online(shop):
    past = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    issued = issue(shop.admin, shop.tenant, expires_at=past.isoformat().replace("+00:00", "Z"))
    verifier = _verifier(shop.client)
    with pytest.raises(LicensingError) as caught:
        verifier.verify_with_time(issued["license_key"], int(datetime.now(UTC).timestamp()))
    assert caught.value.kind == "expired"
    answer = shop.client.validate(issued["license_key"])
    assert not answer.ok and answer.reason == "expired"


def test_inside_the_grace_period_a_key_is_ok(shop):
    past = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    issued = issue(shop.admin, shop.tenant, expires_at=past.isoformat(), grace_seconds=86400)
    answer = shop.client.validate(issued["license_key"])
    assert answer.ok and answer.in_grace_period and answer.grace_until


def test_validate_answers_every_reason(shop):
    c = shop.client
    good = issue(shop.admin, shop.tenant, policy_slug="team")
    answer = c.validate(good["license_key"], product_slug="app")
    assert answer.ok and answer.reason is None
    assert answer.license_id == good["id"] and answer.product_slug == "app" and answer.status == "active"
    assert answer.entitlements == ["pro"] and answer.max_machines == 3 and answer.is_trial is False
    assert c.validate("garbage").reason == "bad_format"
    assert c.validate("LIC1-AAAA-BBBB").reason == "bad_format"
    assert c.validate(good["license_key"], product_slug="other").reason == "product_mismatch"
    # revoked and suspended, each idempotent on the admin side
    for verb, reason in (("suspend", "suspended"), ("unsuspend", None), ("revoke", "revoked")):
        for _ in range(2):
            r = shop.admin.post(f"{prefix(shop.tenant)}/v1/admin/licenses/{good['id']}/{verb}", json={"reason": "test"})
            assert r.status_code == 200, r.text
        answer = c.validate(good["license_key"])
        assert answer.reason == reason and answer.ok is (reason is None)
    # single seat: the first fingerprint binds it, another is refused
    solo = issue(shop.admin, shop.tenant, policy_slug="solo")
    assert c.validate(solo["license_key"], fingerprint="machine-a").ok
    assert c.validate(solo["license_key"], fingerprint="machine-a").ok
    assert c.validate(solo["license_key"], fingerprint="machine-b").reason == "fingerprint_mismatch"
    # multi seat: auto-activation up to the cap
    team = issue(shop.admin, shop.tenant, policy_slug="team")
    for n in range(3):
        assert c.validate(team["license_key"], opts=ValidateOptions(fingerprint=f"m{n}", hostname=f"h{n}")).ok
    capped = c.validate(team["license_key"], fingerprint="m3")
    assert not capped.ok and capped.reason == "too_many_machines" and capped.max_machines == 3


def test_a_key_signed_here_for_no_license_is_not_found(shop, app, store):
    """A key our issuer signed whose license is not on record (as after a restore from an older
    backup) is `not_found`, not `bad_signature`."""
    from dataclasses import replace
    from uuid import UUID, uuid4

    from services.licensing.settings import Licensing

    issued = issue(shop.admin, shop.tenant)
    with store.read() as s:
        lic = s.licenses.get(UUID(issued["id"]))
        assert lic is not None
        ghost = app.services.get(Licensing).issuer.key_text(s, replace(lic, id=uuid4()))
    assert _verifier(shop.client).verify(ghost)
    assert shop.client.validate(ghost).reason == "not_found"


def test_seats_activate_heartbeat_deactivate(shop):
    c = shop.client
    key = issue(shop.admin, shop.tenant, policy_slug="team")["license_key"]
    first = c.activate(key, "fp-1", hostname="one", platform="linux")
    assert first.ok and first.machine_id and first.active_count == 1 and first.max_machines == 3
    assert c.activate(key, "fp-1").machine_id == first.machine_id  # idempotent per fingerprint
    assert c.activate(key, "fp-2").ok and c.activate(key, "fp-3").active_count == 3
    full = c.activate(key, "fp-4")
    assert not full.ok and full.reason == "too_many_machines" and full.active_count == 3
    beat = c.heartbeat(key, "fp-1")
    assert beat.ok and beat.machine_id == first.machine_id
    assert c.heartbeat(key, "fp-9").reason == "not_activated"
    assert c.deactivate(key, "fp-9").reason == "not_found"
    freed = c.deactivate(key, "fp-2", reason="moving")
    assert freed.ok and freed.active_count == 2
    assert c.activate(key, "fp-4").ok  # the freed seat is taken again
    listed = shop.admin.get(f"{prefix(shop.tenant)}/v1/admin/machines", params={"active": "true"}).json()["items"]
    assert len(listed) == 3 and all(len(m["fingerprint_hash"]) == 64 for m in listed)
    assert "fp-1" not in str(listed)


def test_a_silent_machine_loses_its_seat(shop, app):
    from charter.jobs import Context
    from services.licensing.seats import expire_seats

    key = issue(shop.admin, shop.tenant, policy_slug="solo", heartbeat_window_seconds=1)["license_key"]
    assert shop.client.activate(key, "box").ok
    assert shop.client.activate(key, "other").reason == "fingerprint_mismatch"
    import time

    time.sleep(1.2)
    expire_seats(Context(app.services, _job_actor(), SimpleNamespace(args={}), lambda done, total=None: None))
    assert shop.client.heartbeat(key, "box").reason == "not_activated"
    assert shop.client.activate(key, "other").ok


def _job_actor():
    from charter.domain import JOB, Actor

    return Actor(JOB, "licensing.expire_seats")


def test_public_tiers(shop):
    tiers = shop.client.list_public_policies("app")
    assert tiers.product.slug == "app" and tiers.product.base_price_sats == 5000
    assert [e.slug for e in tiers.product.entitlements_catalog] == ["pro", "export"]
    assert [p.slug for p in tiers.policies] == ["team", "solo"]
    team, solo = tiers.policies
    assert team.price_sats == 5000 and team.max_machines == 3 and team.entitlements == ["pro"]
    assert solo.price_sats == 1000 and solo.duration_seconds == 0 and solo.trial_days == 0


def test_redeem_a_free_code(shop):
    made = code(shop.admin, shop.tenant, code="FREE-ONE", percent_off=100, max_redemptions=1)
    redeemed = shop.client.redeem_free_license("app", "free-one")
    assert redeemed.license_key and redeemed.license_id and redeemed.invoice_id and redeemed.redemption_id
    assert _verifier(shop.client).verify(redeemed.license_key)
    assert shop.client.validate(redeemed.license_key).ok
    with pytest.raises(LicensingError):  # used up
        shop.client.redeem_free_license("app", "FREE-ONE")
    assert made["code"] == "FREE-ONE"


def test_purchase_manual_settle_wait_and_recover(shop):
    from keysat_licensing_client import StartPurchaseOptions

    c = shop.client
    session = c.start_purchase("app", StartPurchaseOptions(policy_slug="solo", buyer_email="Buyer@Example.com"))
    assert session.amount_sats == 1000 and session.invoice_id
    assert session.poll_url.endswith(f"{prefix(shop.tenant)}/v1/purchase/{session.invoice_id}")
    assert c.poll_purchase(session.invoice_id).status == "pending"
    got: list[str] = []
    waiter = threading.Thread(
        target=lambda: got.append(c.wait_for_license(session.invoice_id, interval_s=0.2, timeout_s=20))
    )
    waiter.start()
    paid = [
        shop.admin.post(f"{prefix(shop.tenant)}/v1/admin/invoices/{session.invoice_id}/mark-paid") for _ in range(2)
    ]
    waiter.join(timeout=30)
    assert all(r.status_code == 200 for r in paid) and paid[0].json()["license_id"] == paid[1].json()["license_id"]
    assert got and c.validate(got[0]).ok
    recovered = httpx.post(
        f"{shop.base}{prefix(shop.tenant)}/v1/recover",
        json={"invoice_id": session.invoice_id, "email": "buyer@example.com"},
    )
    assert recovered.status_code == 200 and recovered.json()["license_key"] == got[0]
    wrong = httpx.post(
        f"{shop.base}{prefix(shop.tenant)}/v1/recover",
        json={"invoice_id": session.invoice_id, "email": "x@example.com"},
    )
    assert wrong.status_code == 404


def test_a_free_purchase_settles_at_once(shop):
    code(shop.admin, shop.tenant, code="HALFOFF", percent_off=50)
    from keysat_licensing_client import StartPurchaseOptions

    session = shop.client.start_purchase("app", StartPurchaseOptions(policy_slug="solo", code="halfoff"))
    assert session.amount_sats == 500 and session.discount_applied_sats == 500
    code(shop.admin, shop.tenant, code="ALLFREE", percent_off=100)
    free = shop.client.start_purchase("app", StartPurchaseOptions(code="ALLFREE"))
    assert free.amount_sats == 0 and free.btcpay_invoice_id.startswith("free-") and free.checkout_url == ""
    assert shop.client.wait_for_license(free.invoice_id, interval_s=0.1, timeout_s=5)


def test_an_unknown_tenant_or_one_without_licensing_is_an_error(served):
    from tests.helpers import create_tenant

    bare = create_tenant(served.admin)
    for base in (f"{served.base}/licensing/{bare['slug']}", f"{served.base}/licensing/no-such-tenant"):
        with pytest.raises(LicensingError) as caught:
            Client(base).validate("LIC1-AAAA-BBBB")
        assert caught.value.kind == "server_error" and "404" in str(caught.value)


def test_past_the_rate_limits_validate_and_heartbeat_answer_rate_limited(store):
    """Validate per key and per address, heartbeat per license (auth.ratelimit, counted in each
    worker): the client gets 200 `ok: false, reason: rate_limited`, as from the daemon."""
    from server.app import create_app
    from tests.helpers import settings

    limits = "validate.key=3/60,validate.ip=5/60,heartbeat.license=2/3600"
    app = create_app(store=store, settings=settings(CHARTER_RATE_LIMITS=limits))
    with running(app) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=30) as admin:
        tenant = licensed_tenant(admin)
        product(admin, tenant)
        policy(admin, tenant, slug="team", max_machines=3)
        client = Client(base + prefix(tenant))
        one, two = (issue(admin, tenant, policy_slug="team")["license_key"] for _ in range(2))
        assert [client.validate(one).ok for _ in range(3)] == [True] * 3
        limited = client.validate(one)
        assert limited.ok is False and limited.reason == "rate_limited"
        assert client.validate(two).ok and client.validate(two).ok  # another key: 5 from this address
        assert client.validate(two).reason == "rate_limited"  # now the address is over its limit
        assert client.activate(one, "fp").ok
        assert client.heartbeat(one, "fp").ok and client.heartbeat(one, "fp").ok
        beat = client.heartbeat(one, "fp")
        assert beat.ok is False and beat.reason == "rate_limited"
