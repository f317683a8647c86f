"""Tenants: create, look up, and move through demo/trial -> active -> frozen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from charter.domain import Actor, Conflict, Event, InvalidTransition, NotFound
from services.registry import shapes, tenancy
from store import errors as store_errors
from store.interface import Store
from store.models import Tenant, utcnow

CAN_ACTIVATE = frozenset({"demo", "trial", "frozen"})
CAN_CANCEL = frozenset({"demo", "trial", "active"})


PUBLISHED = frozenset({"tenant.created", "tenant.activated", "tenant.cancelled"})  # the x-events of registry.yaml


def _event(action: str, actor: Actor, tenant: Tenant, **metadata: Any) -> Event:
    """The event; one the catalog has carries the tenant (as it is after the change) as its data."""
    return Event(
        action,
        actor,
        "tenant",
        str(tenant.id),
        tenant_id=tenant.id,
        target_name=tenant.slug,
        metadata=metadata,
        data=shapes.tenant(tenant) if action in PUBLISHED else None,
    )


def create(
    uow: Store,
    actor: Actor,
    *,
    slug: str,
    name: str,
    kind: str = "customer",
    plan: str = "starter",
    sales_owner: str | None = None,
) -> Tenant:
    """A demo tenant starts in `demo`, any other in a trial of tenancy.TRIAL."""
    now = utcnow()
    tenant = Tenant(
        id=uuid4(),
        slug=slug,
        name=name,
        status="demo" if kind == "demo" else "trial",
        kind=kind,
        plan=plan,
        sales_owner=sales_owner,
        trial_ends_at=None if kind == "demo" else now + tenancy.TRIAL,
        created_at=now,
        updated_at=now,
    )
    try:
        with uow.write() as s:
            s.tenants.add(tenant)
            s.record(_event("tenant.created", actor, tenant))
    except store_errors.Conflict:
        raise Conflict(f"the slug {slug!r} is already taken", "slug_taken") from None
    return tenant


def get(uow: Store, actor: Actor, tenant_id: UUID) -> Tenant:
    with uow.read() as s:
        return tenancy.existing(s, actor, tenant_id)


def get_by_slug(uow: Store, actor: Actor, slug: str) -> Tenant:
    with uow.read() as s:
        tenant = s.tenants.get_by_slug(slug)
    if tenant is None or not actor.sees(tenant.id):
        raise NotFound(f"no tenant with slug {slug!r}", "tenant_not_found")
    return tenant


def _transition(
    uow: Store,
    actor: Actor,
    tenant_id: UUID,
    allowed: frozenset[str],
    action: str,
    change: Callable[[Tenant], Tenant],
    metadata: dict[str, Any],
) -> Tenant:
    with uow.write() as s:
        tenant = tenancy.existing(s, actor, tenant_id, for_update=True)
        if tenant.status not in allowed:
            raise InvalidTransition(f"a {tenant.status} tenant cannot be {action}")
        updated = change(tenant)
        s.tenants.save(updated)
        s.record(
            _event(f"tenant.{action}", actor, updated, **{"from": tenant.status, "to": updated.status}, **metadata)
        )
    return updated


def activate(
    uow: Store,
    actor: Actor,
    tenant_id: UUID,
    *,
    plan: str | None = None,
    contract_start: date | None = None,
    contract_end: date | None = None,
    erp_customer_id: str | None = None,
) -> Tenant:
    """From demo, trial or frozen to active; what is given replaces what the tenant had."""

    def change(t: Tenant) -> Tenant:
        updated = replace(
            t,
            status="active",
            plan=plan or t.plan,
            contract_start=contract_start or t.contract_start,
            contract_end=contract_end or t.contract_end,
            erp_customer_id=erp_customer_id or t.erp_customer_id,
            trial_ends_at=None,
            updated_at=utcnow(),
        )
        if updated.contract_start and updated.contract_end and updated.contract_end < updated.contract_start:
            raise Conflict("the contract would end before it starts", "invalid_contract_dates")
        return updated

    return _transition(uow, actor, tenant_id, CAN_ACTIVATE, "activated", change, {})


def cancel(
    uow: Store, actor: Actor, tenant_id: UUID, *, reason: str | None = None, at_period_end: bool | None = None
) -> Tenant:
    """From demo, trial or active to frozen; the reason and at_period_end are kept in the audit row."""
    metadata = {k: v for k, v in (("reason", reason), ("at_period_end", at_period_end)) if v is not None}
    return _transition(
        uow,
        actor,
        tenant_id,
        CAN_CANCEL,
        "cancelled",
        lambda t: replace(t, status="frozen", updated_at=utcnow()),
        metadata,
    )
