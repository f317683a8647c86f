"""A tenant with licensing, and the admin calls the licensing tests make through the test client."""

from __future__ import annotations

from tests.helpers import create_tenant


def licensed_tenant(client, **fields) -> dict:
    """A new tenant holding the `licensing` entitlement (granted by the platform)."""
    tenant = create_tenant(client, **fields)
    r = client.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "licensing"})
    assert r.status_code == 201, r.text
    return tenant


def prefix(tenant: dict) -> str:
    return f"/licensing/{tenant['slug']}"


def product(client, tenant: dict, slug: str = "app", **fields) -> dict:
    body = {
        "slug": slug,
        "name": "The App",
        "price_value": 5000,
        "price_currency": "SAT",
        "entitlements_catalog": [{"slug": "pro", "name": "Pro"}, {"slug": "export", "name": "Export"}],
        **fields,
    }
    r = client.post(f"{prefix(tenant)}/v1/admin/products", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def policy(client, tenant: dict, product_slug: str = "app", slug: str = "standard", **fields) -> dict:
    body = {"product_slug": product_slug, "slug": slug, "name": slug.title(), **fields}
    r = client.post(f"{prefix(tenant)}/v1/admin/policies", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def issue(client, tenant: dict, product_slug: str = "app", **fields) -> dict:
    r = client.post(f"{prefix(tenant)}/v1/admin/licenses", json={"product_slug": product_slug, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def code(client, tenant: dict, **fields) -> dict:
    r = client.post(f"{prefix(tenant)}/v1/admin/discount-codes", json=fields)
    assert r.status_code == 201, r.text
    return r.json()
