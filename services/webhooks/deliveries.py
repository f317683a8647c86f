"""Deliveries as a tenant sees them: an endpoint's, the failures, replays, each endpoint's health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from charter.domain import Actor, Event, Invalid, NotFound
from charter.formats import format_date_time
from services.webhooks import delivery as sending
from services.webhooks.endpoints import _visible
from store.interface import Store
from store.models import WebhookDelivery, WebhookEndpoint, utcnow

FAILED = ("failed", "dead")
FINISHED = ("delivered", "dead")
HEALTH_WINDOW = 100
REPLAY_MAX = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_of(d: WebhookDelivery) -> str:
    """Where a page ends: `<microseconds since the epoch>-<id in hex>` of its last delivery."""
    micros = (d.created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{d.id.hex}"


def _position(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The position a cursor names; the spec's pattern admits only what this reads."""
    if cursor is None:
        return None
    micros, _, ident = cursor.partition("-")
    try:
        return EPOCH + timedelta(microseconds=int(micros)), UUID(hex=ident)
    except (ValueError, OverflowError):
        raise Invalid("this cursor is not one a page gave", "invalid_cursor") from None


@dataclass(frozen=True)
class Page:
    items: list[WebhookDelivery]
    next_cursor: str | None


def _page(found: list[WebhookDelivery], limit: int) -> Page:
    more = len(found) > limit
    items = found[:limit]
    return Page(items, cursor_of(items[-1]) if more and items else None)


def list_for_endpoint(
    uow: Store, actor: Actor, endpoint_id: UUID, *, status: str | None, cursor: str | None, limit: int
) -> Page:
    before = _position(cursor)
    with uow.read() as s:
        _visible(s, actor, endpoint_id)
        statuses = None if status is None else [status]
        found = s.webhook_deliveries.list(endpoint_id=endpoint_id, statuses=statuses, before=before, limit=limit + 1)
    return _page(found, limit)


def failures(uow: Store, actor: Actor, *, cursor: str | None, limit: int) -> Page:
    """Failed and dead deliveries of the actor's tenant (a platform caller without x-tenant-id: of every tenant)."""
    before = _position(cursor)
    with uow.read() as s:
        found = s.webhook_deliveries.list(tenant_id=actor.tenant_id, statuses=FAILED, before=before, limit=limit + 1)
    return _page(found, limit)


def not_found(delivery_id: object) -> NotFound:
    return NotFound(f"no webhook delivery with id {delivery_id}", "webhook_delivery_not_found")


def replay(uow: Store, actor: Actor, delivery_id: UUID) -> WebhookDelivery:
    with uow.write() as s:
        found = s.webhook_deliveries.get(delivery_id, for_update=True)
        if found is None or not actor.sees(found.tenant_id):
            raise not_found(delivery_id)
        s.record(
            Event(
                "webhook_delivery.replayed",
                actor,
                "webhook_delivery",
                str(found.id),
                tenant_id=found.tenant_id,
                metadata={"endpoint_id": str(found.endpoint_id), "event_id": str(found.event_id)},
            )
        )
        return sending.replay(s, found, utcnow())


def replay_since(uow: Store, actor: Actor, endpoint_id: UUID, since: datetime) -> int:
    now = utcnow()
    with uow.write() as s:
        endpoint = _visible(s, actor, endpoint_id, for_update=True)
        found = s.webhook_deliveries.list(endpoint_id=endpoint_id, since=since, limit=REPLAY_MAX)
        for d in found:
            sending.replay(s, d, now)
        s.record(
            Event(
                "webhook_endpoint.replayed",
                actor,
                "webhook_endpoint",
                str(endpoint.id),
                tenant_id=endpoint.tenant_id,
                target_name=endpoint.url,
                metadata={"since": format_date_time(since), "replayed": len(found)},
            )
        )
    return len(found)


@dataclass(frozen=True)
class Health:
    endpoint: WebhookEndpoint
    success_rate: float | None
    backlog: int


def health(uow: Store, actor: Actor) -> list[Health]:
    out = []
    with uow.read() as s:
        for endpoint in s.webhook_endpoints.list(actor.tenant_id):
            recent = s.webhook_deliveries.list(endpoint_id=endpoint.id, statuses=FINISHED, limit=HEALTH_WINDOW)
            rate = sum(d.status == "delivered" for d in recent) / len(recent) if recent else None
            out.append(Health(endpoint, rate, s.webhook_deliveries.backlog(endpoint.id)))
    return out
