"""The tenant registry, as it registers itself: specs/registry.yaml, handlers.registry, the catalog."""

from __future__ import annotations

from pathlib import Path

from charter.api import Api, Permissions
from charter.config import ROOT
from charter.runtime import Services
from services.registry.catalog import Catalog


def build(services: Services) -> list[object]:
    """The catalog, from CHARTER_CATALOG (catalog.yaml in the checkout by default)."""
    return [Catalog.load(Path(services.settings.env.get("CHARTER_CATALOG") or ROOT / "catalog.yaml"))]


API = Api(
    name="registry",
    handlers="handlers.registry",
    permissions=Permissions(
        read=frozenset({"tenants:read", "entitlements:read", "catalog:read", "api_keys:read", "audit:read"}),
        write=frozenset({"catalog:request", "api_keys:write", "audit:write"}),
        platform=frozenset({"tenants:write", "entitlements:write"}),
    ),
    build=build,
)
