"""What the principal endpoint shows of the caller's tenant."""

from __future__ import annotations

from charter.domain import Actor
from store.interface import Store
from store.models import Entitlement, Tenant


def tenant_view(uow: Store, actor: Actor) -> tuple[Tenant | None, list[Entitlement]]:
    """The actor's tenant and its entitlements; (None, []) when it has none (or it is gone)."""
    if actor.tenant_id is None:
        return None, []
    with uow.read() as s:
        tenant = s.tenants.get(actor.tenant_id)
        return tenant, s.entitlements.list(actor.tenant_id) if tenant else []
