"""The unit of work: the domain events a write session records, and what its commit writes for them.

A service records what happened with `s.record(event)`. When the `with store.write() as s:` block
ends normally the store calls `before_commit(s, events)`, which runs every writer of ON_COMMIT in
order, in the same transaction, before it commits; when the block raises, or a writer does, the
transaction rolls back and nothing of it stays. A writer takes the session (the public interface
only, so one writer serves every implementation) and the events, in the order they were recorded.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from uuid import uuid4

from charter.formats import format_date_time
from store.models import DELIVER, WebhookDelivery, WebhookEvent, audit_draft, new_job, utcnow

if TYPE_CHECKING:
    from charter.domain import Event
    from store.interface import Session

Writer = Callable[["Session", "Sequence[Event]"], None]


def write_audit(session: Session, events: Sequence[Event]) -> None:
    """One audit row per event. MissingReference (its tenant is gone) fails the transaction."""
    for event in events:
        session.audit.append(audit_draft(event))


def write_outbox(session: Session, events: Sequence[Event]) -> None:
    """The transactional outbox: for each event of the webhook catalog (one that carries `data`)
    of a tenant, its event row (the exact body every delivery sends), and for each enabled
    endpoint of that tenant subscribed to its type a delivery and the job that makes its first
    attempt, due now (the retry schedule's first delay is the job's to keep)."""
    endpoints = None
    for event in events:
        if event.data is None or event.tenant_id is None:
            continue
        if endpoints is None:
            endpoints = {}
        if event.tenant_id not in endpoints:
            endpoints[event.tenant_id] = [e for e in session.webhook_endpoints.list(event.tenant_id) if not e.disabled]
        kind, now, event_id = event.publish or event.action, utcnow(), uuid4()
        body = {
            "id": str(event_id),
            "type": kind,
            "created_at": format_date_time(now),
            "tenant_id": str(event.tenant_id),
            "data": event.data,
        }
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        session.webhook_events.add(WebhookEvent(event_id, event.tenant_id, kind, now, text))
        for endpoint in endpoints[event.tenant_id]:
            if endpoint.event_types is not None and kind not in endpoint.event_types:
                continue
            delivery = WebhookDelivery(uuid4(), event.tenant_id, endpoint.id, event_id, kind, now, now)
            session.webhook_deliveries.add(delivery)
            args = {"delivery_id": str(delivery.id), "seq": 0}
            session.jobs.enqueue(new_job(DELIVER, args, key=f"{delivery.id}:0", tenant_id=event.tenant_id))


# Run in this order before every commit that recorded events.
ON_COMMIT: tuple[Writer, ...] = (write_audit, write_outbox)

# Called after a commit that recorded an event of the webhook catalog (so may have enqueued
# deliveries): the job workers of this process register a wake-up here, so a delivery's first
# attempt waits for no poll.
AFTER_COMMIT: list[Callable[[], None]] = []


def before_commit(session: Session, events: Sequence[Event]) -> None:
    if events:
        for writer in ON_COMMIT:
            writer(session, events)


def after_commit(events: Sequence[Event]) -> None:
    if AFTER_COMMIT and any(event.data is not None for event in events):
        for wake in list(AFTER_COMMIT):
            wake()


class UnitOfWork:
    """What a session is besides its repositories: writable or not, and the events recorded on it."""

    def __init__(self, writable: bool) -> None:
        self.writable = writable
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        """Keep a copy of the event for the commit to write; RuntimeError in a read session."""
        if not self.writable:
            raise RuntimeError("write attempted in a read session")
        # The actor is frozen; only the metadata could change under the caller's hands.
        self.events.append(dataclasses.replace(event, metadata=copy.deepcopy(event.metadata)))
