"""/v1/admin/webhook-endpoints: the tenant's platform webhook endpoints (services.webhooks), seen
through the licensing events. Not a second webhook system: an endpoint made here is an endpoint
of /v1/webhooks/endpoints, signed, retried and replayed as every other (Standard Webhooks).

The list shows the tenant's endpoints that receive a licensing event: subscribed to one, or to
every event (`event_types` null). A create takes only licensing events (every one of them when
`event_types` is left out); another event type answers 400 `unknown_event_type`."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from charter import specs
from charter.domain import Actor, Invalid
from services.licensing import tenancy
from services.webhooks import endpoints
from services.webhooks.endpoints import Webhooks
from store.interface import Store
from store.models import WebhookEndpoint


@cache
def events() -> tuple[str, ...]:
    """The licensing API's events (x-events of specs/licensing.yaml)."""
    return tuple(sorted(specs.read(specs.SPECS_DIR / "licensing.yaml").get(specs.EVENTS) or {}))


def _in_tenant(uow: Store, actor: Actor, slug: str) -> Actor:
    """The actor, acting in the tenant the path names (a platform admin names no tenant otherwise)."""
    with uow.read() as s:
        tenant = tenancy.administered(s, actor, slug)
    return actor if actor.tenant_id == tenant.id else replace(actor, tenant_id=tenant.id)


def receives_licensing(endpoint: WebhookEndpoint) -> bool:
    return endpoint.event_types is None or bool(set(endpoint.event_types) & set(events()))


def list_endpoints(uow: Store, actor: Actor, slug: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints.list_endpoints(uow, _in_tenant(uow, actor, slug)) if receives_licensing(e)]


def create(
    uow: Store,
    actor: Actor,
    hooks: Webhooks,
    slug: str,
    *,
    url: str,
    event_types: list[str] | None = None,
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    acting = _in_tenant(uow, actor, slug)
    wanted = list(events()) if event_types is None else event_types
    other = sorted(set(wanted) - set(events()))
    if other:
        raise Invalid(f"not licensing events: {', '.join(other)}", "unknown_event_type")
    return endpoints.create(uow, acting, hooks, url=url, event_types=wanted, description=description)
