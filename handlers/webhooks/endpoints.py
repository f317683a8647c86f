"""Webhook endpoints: create and rotate (the secret is shown once), list, get, change, remove."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from charter import runtime
from charter.runtime import actor, store
from handlers.webhooks import _wire
from services.webhooks import endpoints
from services.webhooks.endpoints import UNSET, Webhooks


def _hooks() -> Webhooks:
    return runtime.services().get(Webhooks)


def create(body: dict) -> tuple[dict, int]:
    endpoint, secret = endpoints.create(
        store(),
        actor(),
        _hooks(),
        url=body["url"],
        event_types=body.get("event_types"),
        description=body.get("description"),
    )
    return _wire.with_secret(endpoint, secret), 201


def list_endpoints() -> dict:
    return {"items": [_wire.endpoint(e) for e in endpoints.list_endpoints(store(), actor())]}


def get(id: str) -> dict:
    return _wire.endpoint(endpoints.get(store(), actor(), UUID(id)))


def update(id: str, body: dict) -> dict:
    fields = {name: body.get(name, UNSET) for name in ("url", "event_types", "description", "disabled")}
    return _wire.endpoint(endpoints.update(store(), actor(), _hooks(), UUID(id), **fields))


def delete(id: str) -> tuple[object, int]:
    endpoints.delete(store(), actor(), UUID(id))
    return NoContent, 204


def rotate_secret(id: str) -> tuple[dict, int]:
    endpoint, secret = endpoints.rotate_secret(store(), actor(), _hooks(), UUID(id))
    return _wire.with_secret(endpoint, secret), 200
