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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from store.models import audit_draft

if TYPE_CHECKING:
    from charter.domain import Event
    from store.interface import Session

Writer = Callable[["Session", "Sequence[Event]"], None]


def write_audit(session: Session, events: Sequence[Event]) -> None:
    """One audit row per event. MissingReference (its tenant is gone) fails the transaction."""
    for event in events:
        session.audit.append(audit_draft(event))


# Run in this order before every commit that recorded events. The outbox is one more line here.
ON_COMMIT: tuple[Writer, ...] = (write_audit,)


def before_commit(session: Session, events: Sequence[Event]) -> None:
    if events:
        for writer in ON_COMMIT:
            writer(session, events)


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
