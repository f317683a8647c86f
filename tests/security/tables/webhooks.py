"""The webhooks API's operations (specs/webhooks.yaml): endpoints and the event catalog.

Every operation is tenant-scoped and takes no tenant id of its own: a caller bound to B acts in B,
and a platform caller narrows itself with x-tenant-id (the matrix sends B's with every call).
Service tokens here hold registry scopes only, so they are refused.
"""

from __future__ import annotations

from tests.security.rows import (
    PEOPLE_READERS,
    PEOPLE_WRITERS,
    Access,
    Call,
    Route,
    Row,
    Scoped,
)

WEBHOOK_READERS = PEOPLE_READERS
WEBHOOK_WRITERS = PEOPLE_WRITERS
URL = "https://hooks.example.com/probe"
# The DELETE control removes B's endpoint; the platform pass, which comes after every control,
# then finds it gone: not found on B's own id proves the handler ran on it.
GONE = frozenset({"webhook_endpoint_not_found"})


def _endpoint_call(method: str, suffix: str = "", json: dict | None = None):
    return lambda x: Call(method, f"/v1/webhooks/endpoints/{x.fresh_b_endpoint()}{suffix}", json=json, headers=x.in_b)


def _delivery_call(method: str, suffix: str = "", json: dict | None = None):
    return lambda x: Call(method, f"/v1/webhooks/deliveries/{x.fresh_b_delivery()}{suffix}", json=json, headers=x.in_b)


SINCE = {"since": "2020-01-01T00:00:00Z"}
DELIVERY_GONE = frozenset({"webhook_delivery_not_found"})

ROWS: dict[str, Row] = {
    "handlers.webhooks.event_types.list_event_types": Row(
        Scoped(Route("GET", "/v1/webhooks/event-types")),
        Access(WEBHOOK_READERS, 200, lambda x: Call("GET", "/v1/webhooks/event-types", headers=x.in_b)),
    ),
    "handlers.webhooks.endpoints.create": Row(
        # a platform caller must name the tenant with x-tenant-id: the platform pass sends none
        Scoped(Route("POST", "/v1/webhooks/endpoints", json={"url": URL}, platform_via=None)),
        Access(
            WEBHOOK_WRITERS,
            201,
            lambda x: Call("POST", "/v1/webhooks/endpoints", json={"url": URL}, headers=x.in_b),
            writes="webhook_endpoint.created",
        ),
    ),
    "handlers.webhooks.endpoints.list_endpoints": Row(
        Scoped(Route("GET", "/v1/webhooks/endpoints")),
        Access(WEBHOOK_READERS, 200, lambda x: Call("GET", "/v1/webhooks/endpoints", headers=x.in_b)),
    ),
    "handlers.webhooks.endpoints.get": Row(
        Scoped(Route("GET", "/v1/webhooks/endpoints/{endpoint_id}", reached=GONE)),
        Access(WEBHOOK_READERS, 200, _endpoint_call("GET")),
    ),
    "handlers.webhooks.endpoints.update": Row(
        Scoped(Route("PATCH", "/v1/webhooks/endpoints/{endpoint_id}", json={"disabled": True}, reached=GONE)),
        Access(
            WEBHOOK_WRITERS, 200, _endpoint_call("PATCH", json={"disabled": True}), writes="webhook_endpoint.updated"
        ),
    ),
    "handlers.webhooks.endpoints.rotate_secret": Row(
        Scoped(Route("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", reached=GONE)),
        Access(
            WEBHOOK_WRITERS,
            200,
            _endpoint_call("POST", "/rotate-secret"),
            writes="webhook_endpoint.secret_rotated",
        ),
    ),
    "handlers.webhooks.endpoints.delete": Row(
        Scoped(Route("DELETE", "/v1/webhooks/endpoints/{endpoint_id}", reached=GONE)),
        Access(WEBHOOK_WRITERS, 204, _endpoint_call("DELETE"), writes="webhook_endpoint.deleted", last=True),
    ),
    "handlers.webhooks.deliveries.list_deliveries": Row(
        Scoped(Route("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries", reached=GONE)),
        Access(WEBHOOK_READERS, 200, _endpoint_call("GET", "/deliveries")),
    ),
    "handlers.webhooks.deliveries.replay_since": Row(
        Scoped(Route("POST", "/v1/webhooks/endpoints/{endpoint_id}/replay", json=SINCE, reached=GONE)),
        Access(WEBHOOK_WRITERS, 202, _endpoint_call("POST", "/replay", json=SINCE), writes="webhook_endpoint.replayed"),
    ),
    "handlers.webhooks.deliveries.replay": Row(
        Scoped(Route("POST", "/v1/webhooks/deliveries/{delivery_id}/replay", reached=DELIVERY_GONE)),
        Access(WEBHOOK_WRITERS, 202, _delivery_call("POST", "/replay"), writes="webhook_delivery.replayed"),
    ),
    "handlers.webhooks.deliveries.health": Row(
        Scoped(Route("GET", "/v1/webhooks/health")),
        Access(WEBHOOK_READERS, 200, lambda x: Call("GET", "/v1/webhooks/health", headers=x.in_b)),
    ),
    "handlers.webhooks.deliveries.failures": Row(
        Scoped(Route("GET", "/v1/webhooks/failures")),
        Access(WEBHOOK_READERS, 200, lambda x: Call("GET", "/v1/webhooks/failures", headers=x.in_b)),
    ),
}
