"""Tenants: create, look up, activate and cancel (services.registry.tenants holds the rules)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from charter.runtime import actor, store
from handlers.registry import _wire
from services.registry import tenants


def create(body: dict) -> tuple[dict, int]:
    tenant = tenants.create(
        store(),
        actor(),
        slug=body["slug"],
        name=body["name"],
        kind=body.get("kind") or "customer",
        plan=body.get("plan") or "starter",
        sales_owner=body.get("sales_owner"),
    )
    return _wire.tenant(tenant), 201


def get(id: str) -> dict:
    return _wire.tenant(tenants.get(store(), actor(), UUID(id)))


def get_by_slug(slug: str) -> dict:
    return _wire.tenant(tenants.get_by_slug(store(), actor(), slug))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def activate(id: str, body: dict | None = None) -> dict:
    body = body or {}
    tenant = tenants.activate(
        store(),
        actor(),
        UUID(id),
        plan=body.get("plan"),
        contract_start=_date(body.get("contract_start")),
        contract_end=_date(body.get("contract_end")),
        erp_customer_id=body.get("erp_customer_id"),
    )
    return _wire.tenant(tenant)


def cancel(id: str, body: dict | None = None) -> dict:
    body = body or {}
    tenant = tenants.cancel(
        store(), actor(), UUID(id), reason=body.get("reason"), at_period_end=body.get("at_period_end")
    )
    return _wire.tenant(tenant)
