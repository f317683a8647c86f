"""Webhook endpoints: the same behaviour on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from store.errors import Conflict, MissingReference
from store.models import utcnow


def test_endpoint_round_trip(store, tenant_in, make):
    tenant = tenant_in()
    now = utcnow()
    endpoint = make.endpoint(
        tenant.id,
        event_types=["tenant.created", "api_key.revoked"],
        description="billing hooks",
        disabled=True,
        secret_sealed=bytes(range(60)),
        previous_secret_sealed=b"\x01\x02older",
        previous_until=now + timedelta(hours=24),
    )
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
    with store.read() as s:
        found = s.webhook_endpoints.get(endpoint.id)
        assert s.webhook_endpoints.get(endpoint.id, for_update=True) == found
    assert found == endpoint
    assert isinstance(found.secret_sealed, bytes)


def test_endpoint_defaults_and_every_event(store, tenant_in, make):
    endpoint = make.endpoint(tenant_in().id)
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
    with store.read() as s:
        found = s.webhook_endpoints.get(endpoint.id)
    assert found.event_types is None and found.description is None and found.disabled is False
    assert found.previous_secret_sealed is None and found.previous_until is None


def test_add_needs_its_tenant_and_a_free_id(store, tenant_in, make):
    with pytest.raises(MissingReference):
        with store.write() as s:
            s.webhook_endpoints.add(make.endpoint(uuid4()))
    endpoint = make.endpoint(tenant_in().id)
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
    with pytest.raises(Conflict):
        with store.write() as s:
            s.webhook_endpoints.add(endpoint)


def test_list_is_per_tenant_oldest_first(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    now = utcnow()
    first = make.endpoint(a.id, created_at=now - timedelta(seconds=2))
    second = make.endpoint(a.id, created_at=now - timedelta(seconds=1))
    other = make.endpoint(b.id, created_at=now)
    with store.write() as s:
        for endpoint in (second, other, first):
            s.webhook_endpoints.add(endpoint)
    with store.read() as s:
        assert [e.id for e in s.webhook_endpoints.list(a.id)] == [first.id, second.id]
        assert [e.id for e in s.webhook_endpoints.list(b.id)] == [other.id]
        assert [e.id for e in s.webhook_endpoints.list(None)] == [first.id, second.id, other.id]
        assert s.webhook_endpoints.list(uuid4()) == []


def test_save_changes_all_but_tenant_and_created_at(store, tenant_in, make):
    a, b = tenant_in(), tenant_in()
    endpoint = make.endpoint(a.id)
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
    later = endpoint.updated_at + timedelta(minutes=5)
    changed = replace(
        endpoint,
        tenant_id=b.id,
        created_at=later,
        url="https://other.example.com/",
        event_types=["tenant.created"],
        description="x",
        disabled=True,
        secret_sealed=b"new",
        previous_secret_sealed=b"old",
        previous_until=later,
        updated_at=later,
    )
    with store.write() as s:
        s.webhook_endpoints.save(changed)
    with store.read() as s:
        found = s.webhook_endpoints.get(endpoint.id)
    assert found == replace(changed, tenant_id=a.id, created_at=endpoint.created_at)
    with pytest.raises(KeyError):
        with store.write() as s:
            s.webhook_endpoints.save(make.endpoint(a.id))


def test_delete_once_and_rollback(store, tenant_in, make):
    endpoint = make.endpoint(tenant_in().id)
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
    with pytest.raises(RuntimeError):
        with store.write() as s:
            assert s.webhook_endpoints.delete(endpoint.id) is True
            raise RuntimeError("roll back")
    with store.write() as s:
        assert s.webhook_endpoints.get(endpoint.id) is not None
        assert s.webhook_endpoints.delete(endpoint.id) is True
        assert s.webhook_endpoints.delete(endpoint.id) is False
    with store.read() as s:
        assert s.webhook_endpoints.get(endpoint.id) is None


def _delivery_in(store, tenant_in, make):
    from store.models import WebhookDelivery, WebhookEvent

    endpoint = make.endpoint(tenant_in().id)
    now = utcnow()
    event = WebhookEvent(uuid4(), endpoint.tenant_id, "tenant.created", now, '{"a": 1}')
    delivery = WebhookDelivery(uuid4(), endpoint.tenant_id, endpoint.id, event.id, event.type, now, now)
    with store.write() as s:
        s.webhook_endpoints.add(endpoint)
        s.webhook_events.add(event)
        s.webhook_deliveries.add(delivery)
    return endpoint, event, delivery


def test_a_delivery_with_its_endpoint_and_event_in_one_read(store, tenant_in, make):
    endpoint, event, delivery = _delivery_in(store, tenant_in, make)
    with store.read() as s:
        assert s.webhook_deliveries.with_parts(delivery.id) == (delivery, endpoint, event)
        assert s.webhook_deliveries.with_parts(uuid4()) is None


def test_an_optimistic_save_writes_only_the_version_it_read(store, tenant_in, make):
    _, _, delivery = _delivery_in(store, tenant_in, make)
    later = delivery.updated_at + timedelta(seconds=1)
    sent = replace(delivery, status="delivered", tries=1, attempts=[{"at": "x", "duration_ms": 3}], updated_at=later)
    with store.write() as s:
        assert s.webhook_deliveries.save(sent, unchanged_since=delivery.updated_at) is True
    with store.read() as s:
        assert s.webhook_deliveries.get(delivery.id) == sent
    # the stored version is no longer the one read first: nothing is written
    again = replace(sent, status="dead", updated_at=later + timedelta(seconds=1))
    with store.write() as s:
        assert s.webhook_deliveries.save(again, unchanged_since=delivery.updated_at) is False
        assert s.webhook_deliveries.save(replace(again, id=uuid4()), unchanged_since=later) is False
    with store.read() as s:
        assert s.webhook_deliveries.get(delivery.id) == sent
    with store.write() as s:
        assert s.webhook_deliveries.save(again) is True
        with pytest.raises(KeyError):
            s.webhook_deliveries.save(replace(again, id=uuid4()))
