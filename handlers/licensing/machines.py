"""Seats: the app's activate, heartbeat and deactivate calls, and the admin's list and force-deactivate."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import seats, shapes


def _call(verb: str, tenant_slug: str, body: dict) -> dict:
    return seats.machine_call(
        store(),
        actor(),
        config().issuer,
        tenant_slug,
        verb,
        key=body["key"],
        fingerprint=body["fingerprint"],
        hostname=body.get("hostname"),
        platform=body.get("platform"),
        reason=body.get("reason"),
        limits=config().limits,
    )


def activate(tenant_slug: str, body: dict) -> dict:
    return _call("activate", tenant_slug, body)


def heartbeat(tenant_slug: str, body: dict) -> dict:
    return _call("heartbeat", tenant_slug, body)


def deactivate(tenant_slug: str, body: dict) -> dict:
    return _call("deactivate", tenant_slug, body)


def list_machines(tenant_slug: str, license_id: str | None = None, active: bool | None = None) -> dict:
    found = seats.list_machines(store(), actor(), tenant_slug, UUID(license_id) if license_id else None, active)
    return {"items": [shapes.machine(m) for m in found]}


def force_deactivate(tenant_slug: str, machine_id: str) -> dict:
    return shapes.machine(seats.force_deactivate(store(), actor(), tenant_slug, UUID(machine_id)))
