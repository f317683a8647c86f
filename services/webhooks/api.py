"""Webhooks, as they register themselves: specs/webhooks.yaml, handlers.webhooks, their settings."""

from __future__ import annotations

from datetime import timedelta

from charter.api import Api, Permissions
from charter.config import seconds
from charter.runtime import Services
from charter.sealing import Sealer
from services.webhooks import delivery
from services.webhooks.catalog import EventCatalog
from services.webhooks.endpoints import Webhooks


def build(services: Services) -> list[object]:
    """The webhook services: the Sealer of secrets at rest, the event catalog of every spec,
    CHARTER_WEBHOOK_ALLOW_PRIVATE (1: the egress guard lets private addresses through) and
    CHARTER_WEBHOOK_RETRY_SCHEDULE (services.webhooks.delivery) and CHARTER_WEBHOOK_ROTATION_GRACE_S
    (how long a rotated-out secret still signs; 86400, a day, by default)."""
    env = services.settings.env
    allow = env.get("CHARTER_WEBHOOK_ALLOW_PRIVATE", "").strip().lower() in ("1", "true", "yes")
    schedule = delivery.schedule_from_env(env)
    grace = timedelta(seconds=seconds(env, "CHARTER_WEBHOOK_ROTATION_GRACE_S", 86400))
    hooks = Webhooks(services.get(Sealer), EventCatalog.load(), allow_private=allow, schedule=schedule, grace=grace)
    return [hooks]


API = Api(
    name="webhooks",
    handlers="handlers.webhooks",
    permissions=Permissions(read=frozenset({"webhooks:read"}), write=frozenset({"webhooks:write"})),
    build=build,
    jobs=delivery.JOBS,
)
