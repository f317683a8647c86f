"""A tenant's products."""

from __future__ import annotations

from uuid import UUID

from charter.runtime import actor, store
from handlers.licensing._common import config
from services.licensing import catalog, shapes


def list_products(tenant_slug: str) -> dict:
    return {"items": [shapes.product(p) for p in catalog.list_products(store(), actor(), tenant_slug)]}


def create(tenant_slug: str, body: dict) -> tuple[dict, int]:
    return shapes.product(catalog.create_product(store(), actor(), config(), tenant_slug, body)), 201


def get(tenant_slug: str, product_id: str) -> dict:
    return shapes.product(catalog.get_product(store(), actor(), tenant_slug, UUID(product_id)))


def update(tenant_slug: str, product_id: str, body: dict) -> dict:
    return shapes.product(catalog.update_product(store(), actor(), tenant_slug, UUID(product_id), body))
