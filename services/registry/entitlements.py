"""A tenant's product entitlements."""

from __future__ import annotations

from uuid import UUID

from charter.domain import Actor
from services.registry import tenancy
from store.interface import Store
from store.models import Entitlement


def list_for_tenant(uow: Store, actor: Actor, tenant_id: UUID) -> list[Entitlement]:
    with uow.read() as s:
        tenancy.existing(s, actor, tenant_id)
        return s.entitlements.list(tenant_id)
