"""Small helpers for API tests: make things through the API and read the audit log back."""
from __future__ import annotations

import itertools

_n = itertools.count(1)


def new_slug(prefix: str = "t") -> str:
    return f"{prefix}-{next(_n):04d}"


def create_tenant(client, **fields) -> dict:
    body = {"slug": new_slug(), "name": "Acme GmbH", **fields}
    r = client.post("/v1/tenants", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def create_key(client, tenant_id: str, **fields) -> dict:
    r = client.post("/v1/api-keys", json={"tenant_id": tenant_id, "name": "ci", **fields})
    assert r.status_code == 201, r.text
    return r.json()


def audit(client, **filters) -> list[dict]:
    r = client.get("/v1/audit", params={"limit": 500, **filters})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code:
        assert body["error"] == code, body
    return body
