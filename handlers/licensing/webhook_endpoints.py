"""The tenant's webhook endpoints for licensing events: the platform's (handlers.webhooks), filtered."""

from __future__ import annotations

from charter import runtime
from charter.domain import NotFound
from charter.runtime import actor, store
from handlers.webhooks import _wire
from services.licensing import webhook_endpoints
from services.webhooks.endpoints import Webhooks


def _hooks() -> Webhooks:
    try:
        return runtime.services().get(Webhooks)
    except LookupError:  # CHARTER_SPECS left the webhooks API out: there is nothing to deliver with
        raise NotFound("webhooks are not served here", "webhooks_not_served") from None


def list_endpoints(tenant_slug: str) -> dict:
    found = webhook_endpoints.list_endpoints(store(), actor(), tenant_slug)
    return {"items": [_wire.endpoint(e) for e in found]}


def create(tenant_slug: str, body: dict) -> tuple[dict, int]:
    endpoint, secret = webhook_endpoints.create(
        store(),
        actor(),
        _hooks(),
        tenant_slug,
        url=body["url"],
        event_types=body.get("event_types"),
        description=body.get("description"),
    )
    return _wire.with_secret(endpoint, secret), 201
