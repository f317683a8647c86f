"""Whose licensing service a request reaches: the tenant its path's slug names, when that tenant
holds the `licensing` entitlement (its trial included) and is switched on. Anything else answers
one 404, as does an admin credential of another tenant: nobody learns which tenants exist."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from charter.domain import Actor, NotFound
from services.registry import entitlements
from store.interface import Session
from store.models import INACTIVE_TENANT_STATUSES, License, Tenant

ENTITLEMENT = "licensing"


def not_found(what: str = "no licensing service at this address") -> NotFound:
    return NotFound(what, "not_found")


def served(s: Session, slug: str, now: datetime | None = None) -> Tenant:
    """The tenant whose licensing service `slug` names; NotFound when there is none."""
    return served_with(s, slug, None, now)[0]


def served_with(
    s: Session, slug: str, license_id: UUID | None, now: datetime | None = None
) -> tuple[Tenant, License | None]:
    """served(), and the tenant's license `license_id` (None: it has none such), in one read."""
    found = s.licenses.at_prefix(slug, ENTITLEMENT, license_id)
    if found is None:
        raise not_found()
    tenant, held, license = found
    if tenant.status in INACTIVE_TENANT_STATUSES or not entitlements.in_force(held, now):
        raise not_found()
    return tenant, license


def administered(s: Session, actor: Actor, slug: str) -> Tenant:
    """The tenant, when the actor may administer (or read) its licensing; else the same NotFound."""
    tenant = served(s, slug)
    if not actor.sees(tenant.id):
        raise not_found()
    return tenant
