"""The product catalog, product requests and self-serve trials."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from charter import runtime
from charter.runtime import actor, store
from handlers.registry import _wire
from services.registry import catalog
from services.registry.catalog import Catalog, Product


def _catalog() -> Catalog:
    return runtime.services().get(Catalog)


def _product(key: str) -> Product:
    """The product, or 404 product_not_found."""
    return _catalog().get(key)


def list_products() -> dict:
    return {"items": [_wire.product(p) for p in _catalog().products]}


def request_product(body: dict) -> tuple[object, int]:
    catalog.request_product(store(), actor(), _catalog(), tenant_id=UUID(body["tenant_id"]), product=body["product"])
    return NoContent, 202


def request_trial(body: dict) -> tuple[dict, int]:
    entitlement = catalog.request_trial(
        store(), actor(), _catalog(), tenant_id=UUID(body["tenant_id"]), product=body["product"]
    )
    return _wire.entitlement(entitlement), 201
