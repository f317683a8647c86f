"""The event catalog, as the specs declare it."""

from __future__ import annotations

from charter import runtime
from services.webhooks.endpoints import Webhooks


def list_event_types() -> dict:
    catalog = runtime.services().get(Webhooks).catalog
    return {"items": [{"type": t.type, "description": t.description, "payload": t.payload} for t in catalog.types]}
