"""Tenants: create, look up, and move through demo/trial -> active -> frozen."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import uuid4

from auth import access
from auth import audit as _audit
from charter.errors import ApiError
from charter.runtime import store
from handlers.registry import _tenancy, _wire
from store.errors import Conflict
from store.models import Tenant, utcnow

CAN_ACTIVATE = {"demo", "trial", "frozen"}
CAN_CANCEL = {"demo", "trial", "active"}


def create(body):
    now = utcnow()
    kind = body.get("kind") or "customer"
    tenant = Tenant(
        id=uuid4(),
        slug=body["slug"],
        name=body["name"],
        status="demo" if kind == "demo" else "trial",
        kind=kind,
        plan=body.get("plan") or "starter",
        sales_owner=body.get("sales_owner"),
        trial_ends_at=None if kind == "demo" else now + _tenancy.TRIAL,
        created_at=now,
        updated_at=now,
    )
    try:
        with store().write() as s:
            s.tenants.add(tenant)
            s.audit.append(
                _audit.event(
                    "tenant.created",
                    tenant_id=tenant.id,
                    target_type="tenant",
                    target_id=tenant.id,
                    target_name=tenant.slug,
                )
            )
    except Conflict:
        raise ApiError(409, f"the slug {tenant.slug!r} is already taken", "slug_taken") from None
    return _wire.tenant(tenant), 201


def get(id):
    with store().read() as s:
        tenant = _tenancy.existing(s, id)
    return _wire.tenant(tenant)


def get_by_slug(slug):
    with store().read() as s:
        tenant = s.tenants.get_by_slug(slug)
    if tenant is None or not access.sees(tenant.id):
        raise ApiError(404, f"no tenant with slug {slug!r}", "tenant_not_found")
    return _wire.tenant(tenant)


def _transition(tenant_id: str, allowed: set[str], action: str, change, metadata: dict):
    with store().write() as s:
        tenant = _tenancy.existing(s, tenant_id, for_update=True)
        if tenant.status not in allowed:
            raise ApiError(
                409,
                f"a {tenant.status} tenant cannot be {action}",
                "invalid_transition",
            )
        updated = change(tenant)
        s.tenants.save(updated)
        s.audit.append(
            _audit.event(
                f"tenant.{action}",
                tenant_id=tenant.id,
                target_type="tenant",
                target_id=tenant.id,
                target_name=tenant.slug,
                metadata={"from": tenant.status, "to": updated.status, **metadata},
            )
        )
    return _wire.tenant(updated)


def activate(id, body=None):
    body = body or {}
    start = date.fromisoformat(body["contract_start"]) if body.get("contract_start") else None
    end = date.fromisoformat(body["contract_end"]) if body.get("contract_end") else None

    def change(t: Tenant) -> Tenant:
        updated = replace(
            t,
            status="active",
            plan=body.get("plan") or t.plan,
            contract_start=start or t.contract_start,
            contract_end=end or t.contract_end,
            erp_customer_id=body.get("erp_customer_id") or t.erp_customer_id,
            trial_ends_at=None,
            updated_at=utcnow(),
        )
        if updated.contract_start and updated.contract_end and updated.contract_end < updated.contract_start:
            raise ApiError(409, "the contract would end before it starts", "invalid_contract_dates")
        return updated

    return _transition(id, CAN_ACTIVATE, "activated", change, {})


def cancel(id, body=None):
    body = body or {}
    metadata = {k: body[k] for k in ("reason", "at_period_end") if k in body}
    return _transition(
        id,
        CAN_CANCEL,
        "cancelled",
        lambda t: replace(t, status="frozen", updated_at=utcnow()),
        metadata,
    )
