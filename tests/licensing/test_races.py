"""Races over real HTTP, with two servers (as two workers) on one database: two settles of one
invoice issue one license, activations racing for the last seat have one winner, and redemptions
racing for a code's last use have one winner. On memory both servers share the one store."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from tests.helpers import ADMIN, audit
from tests.licensing.helpers import code, issue, licensed_tenant, policy, prefix, product
from tools.server import running


@pytest.fixture
def bases(app, store):
    """Two servers over the same data: the test's app, and a second app with a store of its own
    on the same database (the memory store is shared, being in-process)."""
    from server.app import create_app
    from tests.helpers import settings

    second = store
    if getattr(store, "url", None) is not None:
        from store.sql import SqlStore

        second = SqlStore(str(store.url.render_as_string(hide_password=False)))
    with ExitStack() as stack:
        yield [
            stack.enter_context(running(app)),
            stack.enter_context(running(create_app(store=second, settings=settings()))),
        ]
        if second is not store:
            stack.callback(second.close)


def _race(bases: list[str], n: int, send) -> list[httpx.Response]:
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        with httpx.Client(base_url=bases[i % len(bases)], timeout=60, headers=ADMIN) as c:
            barrier.wait()
            return send(c, i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.fixture
def shop(client):
    tenant = licensed_tenant(client)
    product(client, tenant)
    policy(client, tenant, slug="team", max_machines=3)
    return tenant


def test_settles_at_once_issue_one_license(bases, client, shop):
    p = prefix(shop)
    invoice = client.post(f"{p}/v1/purchase", json={"product": "app", "policy_slug": "team"}).json()["invoice_id"]
    answers = _race(bases, 8, lambda c, i: c.post(f"{p}/v1/admin/invoices/{invoice}/mark-paid"))
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
    assert len({r.json()["license_id"] for r in answers}) == 1
    assert len(client.get(f"{p}/v1/admin/licenses/search", params={"invoice_id": invoice}).json()["items"]) == 1
    assert len(audit(client, action="invoice.settled")) == 1


def test_activations_racing_for_the_last_seat_have_one_winner(bases, client, shop):
    p = prefix(shop)
    key = issue(client, shop, policy_slug="team")["license_key"]
    for fp in ("a", "b"):
        assert client.post(f"{p}/v1/machines/activate", json={"key": key, "fingerprint": fp}).json()["ok"]
    answers = _race(
        bases, 8, lambda c, i: c.post(f"{p}/v1/machines/activate", json={"key": key, "fingerprint": f"r{i}"})
    )
    outcomes = [r.json() for r in answers]
    assert sum(o["ok"] for o in outcomes) == 1, outcomes
    assert {o.get("reason") for o in outcomes if not o["ok"]} == {"too_many_machines"}
    listed = client.get(f"{p}/v1/admin/machines", params={"active": "true"}).json()["items"]
    assert len(listed) == 3


def test_redemptions_racing_for_a_codes_last_use_have_one_winner(bases, client, shop):
    p = prefix(shop)
    code(client, shop, code="LASTONE", percent_off=100, max_redemptions=1)
    answers = _race(bases, 6, lambda c, i: c.post(f"{p}/v1/redeem", json={"product": "app", "code": "LASTONE"}))
    assert sorted(r.status_code for r in answers) == [200] + [400] * 5, [r.text for r in answers]


def test_creates_racing_for_a_tiers_last_product_have_one_winner(bases, client, shop):
    p = prefix(shop)
    for n in range(3):  # the shop has one product: 4 of the starter plan's 5
        product(client, shop, slug=f"more-{n}")
    answers = _race(bases, 6, lambda c, i: c.post(f"{p}/v1/admin/products", json={"slug": f"last-{i}", "name": "L"}))
    assert sorted(r.status_code for r in answers) == [201] + [402] * 5, [r.text for r in answers]
    assert {r.json()["error"] for r in answers if r.status_code == 402} == {"tier_cap"}
    assert len(client.get(f"{p}/v1/admin/products").json()["items"]) == 5


def test_signed_provider_deliveries_racing_issue_one_license(bases, client, store):
    from tests.licensing.test_provider_hooks import paid, provider_secret, shop_with_invoice, signed

    tenant, invoice_id = shop_with_invoice(client)
    secret = provider_secret(client, store, tenant)
    hook = f"{prefix(tenant)}/v1/payments/manual/webhook"
    deliveries = [signed(secret, paid(invoice_id)) for _ in range(6)]
    answers = _race(bases, 6, lambda c, i: c.post(hook, content=deliveries[i][0], headers=deliveries[i][1]))
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    assert len({r.json()["license_id"] for r in answers}) == 1
    assert len(client.get(f"{prefix(tenant)}/v1/admin/licenses").json()["items"]) == 1
