"""Webhook events and deliveries in memory."""

from __future__ import annotations

import builtins
import copy
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from store.errors import Conflict, MissingReference
from store.memory.base import MemoryContext, Repo, Rows
from store.memory.cascade import DELETE
from store.memory.tenants import TenantRows
from store.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

WAITING = ("pending", "failed")


class WebhookEventRows(Rows[UUID, WebhookEvent]):
    on_tenant_delete = DELETE


class WebhookDeliveryRows(Rows[UUID, WebhookDelivery]):
    on_tenant_delete = DELETE


class MemoryWebhookEvents(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(WebhookEventRows)
        self._tenants = self._tables.of(TenantRows)

    def add(self, event: WebhookEvent) -> None:
        undo = self._undo()
        if event.tenant_id not in self._tenants.by_key:
            raise MissingReference("tenant")
        if event.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(event.id, copy.deepcopy(event), undo)

    def get(self, event_id: UUID) -> WebhookEvent | None:
        found = self._rows.by_key.get(event_id)
        return copy.deepcopy(found) if found else None


def _position(d: WebhookDelivery) -> tuple[datetime, str]:
    return (d.created_at, str(d.id))


class MemoryWebhookDeliveries(Repo):
    def __init__(self, session: MemoryContext) -> None:
        super().__init__(session)
        self._rows = self._tables.of(WebhookDeliveryRows)
        self._events = self._tables.of(WebhookEventRows)

    def add(self, delivery: WebhookDelivery) -> None:
        from store.memory.webhooks import WebhookEndpointRows

        undo = self._undo()
        if delivery.endpoint_id not in self._tables.of(WebhookEndpointRows).by_key:
            raise MissingReference("endpoint")
        if delivery.event_id not in self._events.by_key:
            raise MissingReference("event")
        if delivery.id in self._rows.by_key:
            raise Conflict("id")
        self._rows.insert(delivery.id, copy.deepcopy(delivery), undo)

    def get(self, delivery_id: UUID, *, for_update: bool = False) -> WebhookDelivery | None:
        found = self._rows.by_key.get(delivery_id)
        return copy.deepcopy(found) if found else None

    def with_parts(self, delivery_id: UUID) -> tuple[WebhookDelivery, WebhookEndpoint, WebhookEvent] | None:
        from store.memory.webhooks import WebhookEndpointRows

        delivery = self._rows.by_key.get(delivery_id)
        if delivery is None:
            return None
        endpoint = self._tables.of(WebhookEndpointRows).by_key.get(delivery.endpoint_id)
        event = self._events.by_key.get(delivery.event_id)
        if endpoint is None or event is None:
            return None
        return copy.deepcopy(delivery), copy.deepcopy(endpoint), copy.deepcopy(event)

    def save(self, delivery: WebhookDelivery, *, unchanged_since: datetime | None = None) -> bool:
        undo = self._undo()
        if unchanged_since is not None:
            stored = self._rows.by_key.get(delivery.id)
            if stored is None or stored.updated_at != unchanged_since:
                return False
        old = self._rows.by_key[delivery.id]
        kept = copy.deepcopy(old)
        for name in ("status", "attempts", "next_attempt_at", "tries", "updated_at"):
            setattr(kept, name, copy.deepcopy(getattr(delivery, name)))
        self._rows.replace(delivery.id, kept, undo)
        return True

    def list(
        self,
        *,
        tenant_id: UUID | None = None,
        endpoint_id: UUID | None = None,
        statuses: Sequence[str] | None = None,
        since: datetime | None = None,
        before: tuple[datetime, UUID] | None = None,
        limit: int = 50,
    ) -> builtins.list[WebhookDelivery]:
        bound = (before[0], str(before[1])) if before else None
        found = [
            d
            for d in self._rows.by_key.values()
            if (tenant_id is None or d.tenant_id == tenant_id)
            and (endpoint_id is None or d.endpoint_id == endpoint_id)
            and (statuses is None or d.status in statuses)
            and (since is None or d.created_at >= since)
            and (bound is None or _position(d) < bound)
        ]
        found.sort(key=_position, reverse=True)
        return [copy.deepcopy(d) for d in found[: max(limit, 0)]]

    def backlog(self, endpoint_id: UUID) -> int:
        return sum(1 for d in self._rows.by_key.values() if d.endpoint_id == endpoint_id and d.status in WAITING)

    def drop_endpoint(self, endpoint_id: UUID) -> None:
        """What the SQL foreign key's ON DELETE CASCADE does: the endpoint's deliveries go with it."""
        undo = self._undo()
        for key in [k for k, d in self._rows.by_key.items() if d.endpoint_id == endpoint_id]:
            self._rows.remove(key, undo)
