"""Webhook endpoints of a tenant: create (the secret is shown once), list, read, change, remove,
rotate the signing secret. Secrets are kept sealed (charter.sealing), bound to their endpoint."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Event, Invalid, NotFound
from charter.formats import format_date_time
from charter.sealing import Sealer
from services.webhooks import egress
from services.webhooks.catalog import EventCatalog
from store.errors import MissingReference
from store.interface import Session, Store
from store.models import WebhookEndpoint, utcnow

PREFIX = "whsec_"
SECRET_BYTES = 32  # the contract allows 24-64
GRACE = timedelta(hours=24)  # how long a rotated-out secret still signs (CHARTER_WEBHOOK_ROTATION_GRACE_S)
UNSET: Any = object()  # a PATCH field not given
# Seconds before each attempt of a delivery (services.webhooks.delivery): at once, 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
DEFAULT_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)


def new_secret() -> str:
    """`whsec_` and the standard base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def where(endpoint_id: UUID) -> bytes:
    """The associated data a secret of this endpoint is sealed with."""
    return f"webhook:{endpoint_id}".encode()


def not_found(endpoint_id: object) -> NotFound:
    return NotFound(f"no webhook endpoint with id {endpoint_id}", "webhook_endpoint_not_found")


@dataclass(frozen=True)
class Webhooks:
    """What the webhook services need besides a store and an actor."""

    sealer: Sealer
    catalog: EventCatalog
    allow_private: bool = False  # CHARTER_WEBHOOK_ALLOW_PRIVATE=1
    resolver: egress.Resolver = egress.resolve
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE  # CHARTER_WEBHOOK_RETRY_SCHEDULE
    grace: timedelta = GRACE  # CHARTER_WEBHOOK_ROTATION_GRACE_S

    def check_url(self, url: str) -> str:
        why = egress.refused(url, allow_private=self.allow_private, resolver=self.resolver)
        if why:
            raise Invalid(f"this URL is not allowed as a webhook endpoint: {why}", "url_not_allowed")
        return url

    def secret_of(self, endpoint: WebhookEndpoint) -> str:
        """The current signing secret's plaintext (for signing)."""
        return self.sealer.open(endpoint.secret_sealed, where(endpoint.id)).decode()

    def previous_secret_of(self, endpoint: WebhookEndpoint, now: datetime | None = None) -> str | None:
        """The rotated-out secret while it still signs, else None."""
        if endpoint.previous_secret_sealed is None or endpoint.previous_until is None:
            return None
        if endpoint.previous_until <= (now or utcnow()):
            return None
        return self.sealer.open(endpoint.previous_secret_sealed, where(endpoint.id)).decode()


def _tenant_of(s: Session, actor: Actor) -> UUID:
    """The tenant a new endpoint belongs to: the actor's (a platform caller names it with x-tenant-id)."""
    if actor.tenant_id is None or s.tenants.get(actor.tenant_id) is None:
        raise NotFound(
            "no tenant named: a platform caller names the tenant with x-tenant-id"
            if actor.tenant_id is None
            else f"no tenant with id {actor.tenant_id}",
            "tenant_not_found",
        )
    return actor.tenant_id


def _event(action: str, actor: Actor, endpoint: WebhookEndpoint, **metadata: object) -> Event:
    return Event(
        action,
        actor,
        "webhook_endpoint",
        str(endpoint.id),
        tenant_id=endpoint.tenant_id,
        target_name=endpoint.url,
        metadata=dict(metadata),
    )


def _visible(s: Session, actor: Actor, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = s.webhook_endpoints.get(endpoint_id, for_update=for_update)
    if endpoint is None or not actor.sees(endpoint.tenant_id):
        raise not_found(endpoint_id)
    return endpoint


def create(
    uow: Store,
    actor: Actor,
    hooks: Webhooks,
    *,
    url: str,
    event_types: list[str] | None = None,
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the actor's tenant, and its secret's plaintext (sealed at rest)."""
    with uow.read() as s:  # the tenant first, then the URL: resolving it holds no transaction open
        tenant_id = _tenant_of(s, actor)
    url, event_types = hooks.check_url(url), hooks.catalog.check(event_types)
    endpoint_id, secret, now = uuid4(), new_secret(), utcnow()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        tenant_id=tenant_id,
        url=url,
        secret_sealed=hooks.sealer.seal(secret.encode(), where(endpoint_id)),
        created_at=now,
        updated_at=now,
        event_types=event_types,
        description=description,
    )
    with uow.write() as s:
        try:
            s.webhook_endpoints.add(endpoint)
        except MissingReference:  # the tenant went meanwhile
            raise NotFound(f"no tenant with id {tenant_id}", "tenant_not_found") from None
        s.record(_event("webhook_endpoint.created", actor, endpoint, event_types=endpoint.event_types))
    return endpoint, secret


def list_endpoints(uow: Store, actor: Actor) -> list[WebhookEndpoint]:
    """The actor's tenant's endpoints; a platform caller without x-tenant-id sees every tenant's."""
    with uow.read() as s:
        return s.webhook_endpoints.list(actor.tenant_id)


def get(uow: Store, actor: Actor, endpoint_id: UUID) -> WebhookEndpoint:
    with uow.read() as s:
        return _visible(s, actor, endpoint_id)


def update(
    uow: Store,
    actor: Actor,
    hooks: Webhooks,
    endpoint_id: UUID,
    *,
    url: str = UNSET,
    event_types: list[str] | None = UNSET,
    description: str | None = UNSET,
    disabled: bool = UNSET,
) -> WebhookEndpoint:
    """Change the fields given (UNSET: left as it is)."""
    with uow.read() as s:  # not found first, then the URL: resolving it holds no transaction open
        _visible(s, actor, endpoint_id)
    changes: dict[str, Any] = {}
    if url is not UNSET:
        changes["url"] = hooks.check_url(url)
    if event_types is not UNSET:
        changes["event_types"] = hooks.catalog.check(event_types)
    if description is not UNSET:
        changes["description"] = description
    if disabled is not UNSET:
        changes["disabled"] = bool(disabled)
    with uow.write() as s:
        endpoint = _visible(s, actor, endpoint_id, for_update=True)
        changed = sorted(k for k, v in changes.items() if getattr(endpoint, k) != v)
        endpoint = replace(endpoint, **changes, updated_at=utcnow())
        s.webhook_endpoints.save(endpoint)
        s.record(_event("webhook_endpoint.updated", actor, endpoint, changed=changed))
    return endpoint


def delete(uow: Store, actor: Actor, endpoint_id: UUID) -> None:
    with uow.write() as s:
        endpoint = _visible(s, actor, endpoint_id, for_update=True)
        s.webhook_endpoints.delete(endpoint_id)
        s.record(_event("webhook_endpoint.deleted", actor, endpoint))


def rotate_secret(uow: Store, actor: Actor, hooks: Webhooks, endpoint_id: UUID) -> tuple[WebhookEndpoint, str]:
    """A new current secret; the one it replaces keeps signing, as a second signature, for the
    grace period (hooks.grace)."""
    secret, now = new_secret(), utcnow()
    with uow.write() as s:
        endpoint = _visible(s, actor, endpoint_id, for_update=True)
        endpoint = replace(
            endpoint,
            secret_sealed=hooks.sealer.seal(secret.encode(), where(endpoint.id)),
            previous_secret_sealed=endpoint.secret_sealed,
            previous_until=now + hooks.grace,
            updated_at=now,
        )
        s.webhook_endpoints.save(endpoint)
        s.record(
            _event(
                "webhook_endpoint.secret_rotated", actor, endpoint, previous_until=format_date_time(now + hooks.grace)
            )
        )
    return endpoint, secret
