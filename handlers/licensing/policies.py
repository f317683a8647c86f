"""Policies (tiers) of a tenant's products."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from services.licensing import catalog, shapes


def list_policies(tenant_slug: str, product_slug: str | None = None, include_archived: bool = False) -> dict:
    found = catalog.list_policies(store(), actor(), tenant_slug, product_slug, include_archived)
    return {"items": [shapes.policy(p, product) for p, product in found]}


def create(tenant_slug: str, body: dict) -> tuple[dict, int]:
    policy, product = catalog.create_policy(store(), actor(), tenant_slug, body)
    return shapes.policy(policy, product), 201


def set_archived(tenant_slug: str, policy_id: str, body: dict) -> dict:
    policy, product = catalog.set_archived(store(), actor(), tenant_slug, UUID(policy_id), body["archived"])
    return shapes.policy(policy, product)
