"""Tenant rules every registry service shares: the trial length, the 404, and that an actor sees
only the tenants it may see (another tenant's answers exactly as a missing one)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from charter.domain import ANONYMOUS, Actor, NotFound
from store.interface import Session
from store.models import Tenant

TRIAL = timedelta(days=14)


def not_found(tenant_id: object) -> NotFound:
    return NotFound(f"no tenant with id {tenant_id}", "tenant_not_found")


def existing(s: Session, actor: Actor, tenant_id: UUID, *, for_update: bool = False) -> Tenant:
    """The tenant with this id, or the registry's NotFound (also when the actor may not see it)."""
    if not actor.sees(tenant_id):
        raise not_found(tenant_id)
    tenant = s.tenants.get(tenant_id, for_update=for_update)
    if tenant is None:
        raise not_found(tenant_id)
    return tenant


def scope(actor: Actor, requested: UUID | None) -> UUID | None:
    """The tenant a listing covers: the one asked for, else the actor's own when it is bound to one
    (a bound actor cannot list across tenants); NotFound when it asks for another's."""
    if actor.kind == ANONYMOUS:
        raise not_found(requested)
    if actor.tenant_id is None:
        return requested
    if requested is None or requested == actor.tenant_id:
        return actor.tenant_id
    raise not_found(requested)
