"""Webhook events and deliveries over SQL."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from store.errors import Conflict
from store.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from store.sql.base import Repo, referenced
from store.sql.tables import webhook_deliveries, webhook_endpoints, webhook_events
from store.sql.webhooks import FIELDS as ENDPOINT_FIELDS
from store.sql.webhooks import endpoint_of

EVENT_FIELDS = tuple(c.name for c in webhook_events.columns)
FIELDS = tuple(c.name for c in webhook_deliveries.columns)
MUTABLE = ("status", "attempts", "next_attempt_at", "tries", "updated_at")
WAITING = ("pending", "failed")
_REFERENCES = referenced(webhook_deliveries)

_D = webhook_deliveries.c
_BY_ID = sa.select(webhook_deliveries).where(_D.id == sa.bindparam("id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
NOTIFY_CHANNEL = "charter_jobs"
_NOTIFY = sa.text(f"NOTIFY {NOTIFY_CHANNEL}")
_NOTIFY_ON = True  # off only to measure the wake-up against polling (bench.webhooks)
_SAVE = (
    sa.update(webhook_deliveries)
    .where(_D.id == sa.bindparam("b_id"))
    .values({name: sa.bindparam(f"b_{name}", type_=_D[name].type) for name in MUTABLE})
)
_SAVE_IF_UNCHANGED = _SAVE.where(_D.updated_at == sa.bindparam("b_since", type_=_D.updated_at.type))
_WITH_PARTS = (
    sa.select(
        *webhook_deliveries.c,
        *(c.label(f"endpoint__{c.name}") for c in webhook_endpoints.c),
        *(c.label(f"event__{c.name}") for c in webhook_events.c),
    )
    .join(webhook_endpoints, webhook_endpoints.c.id == _D.endpoint_id)
    .join(webhook_events, webhook_events.c.id == _D.event_id)
    .where(_D.id == sa.bindparam("id"))
)
_EVENT = sa.select(webhook_events).where(webhook_events.c.id == sa.bindparam("id"))


def _delivery(row) -> WebhookDelivery:
    values = dict(row if isinstance(row, dict) else row._mapping)
    values["attempts"] = list(values["attempts"] or [])
    return WebhookDelivery(**values)


class SqlWebhookEvents(Repo):
    def add(self, event: WebhookEvent) -> None:
        self._add_owned(webhook_events, event, EVENT_FIELDS, webhook_events.c.id, "id")

    def get(self, event_id: UUID) -> WebhookEvent | None:
        row = self._run(_EVENT, {"id": event_id}).first()
        return WebhookEvent(**row._mapping) if row else None


class SqlWebhookDeliveries(Repo):
    def add(self, delivery: WebhookDelivery) -> None:
        self._write()
        values = {name: getattr(delivery, name) for name in FIELDS}
        statement = self._insert(webhook_deliveries, _D.id)
        if self._insert_referencing(statement, values, _REFERENCES, "endpoint").first() is None:
            raise Conflict("id")
        if self.pg and _NOTIFY_ON:  # delivered on commit, once per transaction: idle `charter worker`s look now
            self._run(_NOTIFY)

    def get(self, delivery_id: UUID, *, for_update: bool = False) -> WebhookDelivery | None:
        query = _BY_ID_FOR_UPDATE if for_update and self.pg else _BY_ID  # SQLite: BEGIN IMMEDIATE
        row = self._run(query, {"id": delivery_id}).first()
        return _delivery(row) if row else None

    def with_parts(self, delivery_id: UUID) -> tuple[WebhookDelivery, WebhookEndpoint, WebhookEvent] | None:
        row = self._run(_WITH_PARTS, {"id": delivery_id}).first()
        if row is None:
            return None
        values = row._mapping
        delivery = _delivery({name: values[name] for name in FIELDS})
        endpoint = endpoint_of({name: values[f"endpoint__{name}"] for name in ENDPOINT_FIELDS})
        event = WebhookEvent(**{name: values[f"event__{name}"] for name in EVENT_FIELDS})
        return delivery, endpoint, event

    def save(self, delivery: WebhookDelivery, *, unchanged_since: datetime | None = None) -> bool:
        self._write()
        values = {f"b_{name}": getattr(delivery, name) for name in MUTABLE}
        values["b_id"] = delivery.id
        if unchanged_since is not None:
            return self._run(_SAVE_IF_UNCHANGED, {**values, "b_since": unchanged_since}).rowcount == 1
        if self._run(_SAVE, values).rowcount == 0:
            raise KeyError(delivery.id)
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
        query = sa.select(webhook_deliveries)
        if tenant_id is not None:
            query = query.where(_D.tenant_id == tenant_id)
        if endpoint_id is not None:
            query = query.where(_D.endpoint_id == endpoint_id)
        if statuses is not None:
            query = query.where(_D.status.in_(list(statuses)))
        if since is not None:
            query = query.where(_D.created_at >= since)
        if before is not None:
            at, last = before
            # ids compare as text, as the memory store compares them
            query = query.where(sa.or_(_D.created_at < at, sa.and_(_D.created_at == at, _D.id < last)))
        query = query.order_by(_D.created_at.desc(), _D.id.desc()).limit(max(limit, 0))
        found = [_delivery(r) for r in self._run(query)]
        # The memory store orders ids by their text; SQLite and PostgreSQL agree with it for UUIDs
        # of one case, which is how they are kept and compared.
        return found

    def backlog(self, endpoint_id: UUID) -> int:
        query = sa.select(sa.func.count()).where(_D.endpoint_id == endpoint_id, _D.status.in_(WAITING))
        return int(self._run(query).scalar_one())
