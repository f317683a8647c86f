"""The egress guard at delivery time, on every store: a name that resolved to a public address
when the endpoint was made but to a private one now (DNS rebinding) is refused, as are literal
private, loopback, link-local, metadata and IPv4-mapped addresses; a redirect is not followed.
A real receiver on loopback proves nothing arrived."""

from __future__ import annotations

import pytest

from charter.domain import ADMIN_KEY, Actor
from charter.sealing import Sealer, parse_key
from services.registry import api_keys, tenants
from services.webhooks import delivery, endpoints, sender
from services.webhooks.catalog import EventCatalog
from services.webhooks.endpoints import Webhooks
from tests.helpers import SECRET_KEY, new_slug

PUBLIC = "93.184.216.34"
CATALOG = EventCatalog.load()


def _hooks(resolved: str, **kw) -> Webhooks:
    return Webhooks(Sealer(parse_key(SECRET_KEY)), CATALOG, resolver=lambda host: [resolved], schedule=(0.0,), **kw)


def _one_delivery(store, url: str):
    platform = Actor(ADMIN_KEY, "bootstrap")
    tenant = tenants.create(store, platform, slug=new_slug("egress"), name="Egress")
    actor = Actor(ADMIN_KEY, "bootstrap", tenant_id=tenant.id)
    endpoint, _ = endpoints.create(store, actor, _hooks(PUBLIC), url=url)
    api_keys.create(store, actor, tenant_id=tenant.id, name="ci")
    with store.read() as s:
        [found] = s.webhook_deliveries.list(endpoint_id=endpoint.id)
    return actor, found


def test_a_name_rebound_to_loopback_is_refused_when_delivering(store, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    actor, found = _one_delivery(store, f"http://rebind.example:{port}/hooks")
    assert delivery.attempt(store, _hooks("127.0.0.1"), actor, found.id, 0) == "dead"
    with store.read() as s:
        [attempt] = s.webhook_deliveries.get(found.id).attempts
    assert "status_code" not in attempt and "egress guard" in attempt["error"] and "loopback" in attempt["error"]
    assert receiver.received == []
    # allowed, the same delivery reaches the receiver, pinned to the address resolved, Host kept
    actor2, found2 = _one_delivery(store, f"http://rebind.example:{port}/hooks")
    assert delivery.attempt(store, _hooks("127.0.0.1", allow_private=True), actor2, found2.id, 0) == "delivered"
    [got] = receiver.wait(1)
    assert got.headers["host"] == f"rebind.example:{port}"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "[fe80::1]", "100.64.0.1", "0.0.0.0"],
)
def test_addresses_that_are_not_public_are_never_connected_to(host, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    outcome = sender.send(f"http://{host}:{port}/hooks", b"{}", {}, allow_private=False, resolver=lambda h: [])
    assert outcome.status_code is None and "egress guard" in (outcome.error or "")
    assert receiver.received == []


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver):
    receiver.script = [307]
    receiver.extra_headers = {"location": "http://127.0.0.1:1/elsewhere"}
    outcome = sender.send(receiver.url, b"{}", {}, allow_private=True)
    assert outcome.status_code == 307 and not outcome.ok
    assert len(receiver.received) == 1


def test_an_endpoint_failing_for_five_days_is_disabled_and_audited(store, receiver):
    from dataclasses import replace
    from datetime import timedelta

    from store.models import AuditQuery, utcnow

    receiver.script = [500]
    hooks = _hooks("127.0.0.1", allow_private=True)
    port = receiver.url.split(":")[2].split("/")[0]
    actor, found = _one_delivery(store, f"http://failing.example:{port}/hooks")
    with store.write() as s:
        endpoint = s.webhook_endpoints.get(found.endpoint_id)
        s.webhook_endpoints.save(
            replace(endpoint, failing_since=utcnow() - delivery.FAILING_DISABLES - timedelta(minutes=1))
        )
    assert delivery.attempt(store, hooks, actor, found.id, 0) == "dead"
    with store.read() as s:
        assert s.webhook_endpoints.get(found.endpoint_id).disabled
        [event] = s.audit.query(AuditQuery(action="webhook_endpoint.disabled"))
    assert event.metadata["reason"] == "failing" and event.target_id == str(found.endpoint_id)
