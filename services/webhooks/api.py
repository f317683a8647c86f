"""Webhooks, as they register themselves: specs/webhooks.yaml, handlers.webhooks, their settings."""

from __future__ import annotations

from charter.api import Api, Permissions
from charter.runtime import Services
from charter.sealing import Sealer
from services.webhooks.catalog import EventCatalog
from services.webhooks.endpoints import Webhooks


def build(services: Services) -> list[object]:
    """The webhook services: the Sealer of secrets at rest, the event catalog of every spec, and
    CHARTER_WEBHOOK_ALLOW_PRIVATE (1: the egress guard lets private addresses through)."""
    allow = services.settings.env.get("CHARTER_WEBHOOK_ALLOW_PRIVATE", "").strip().lower() in ("1", "true", "yes")
    return [Webhooks(services.get(Sealer), EventCatalog.load(), allow_private=allow)]


API = Api(
    name="webhooks",
    handlers="handlers.webhooks",
    permissions=Permissions(read=frozenset({"webhooks:read"}), write=frozenset({"webhooks:write"})),
    build=build,
)
