"""Small helpers for API tests: settings with a bootstrap key, make things through the API, and
read the audit log back."""

from __future__ import annotations

import itertools

from charter.config import Settings

_n = itertools.count(1)
# The bootstrap credential the test apps accept: `Authorization: Bearer <it>` is platform_admin.
ADMIN_KEY = "charter-tests-bootstrap-admin-key-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# What seals secrets at rest in the test apps (CHARTER_SECRET_KEY: base64 of 32 bytes).
SECRET_KEY = "Y2hhcnRlci10ZXN0cy1zZWFsaW5nLWtleS0zMmJ5dGU="


def settings(**env: str) -> Settings:
    """Test settings: the bootstrap key set, anything else as given (environment names)."""
    return Settings.from_env(
        {"DATABASE_URL": "memory://", "CHARTER_ADMIN_KEY": ADMIN_KEY, "CHARTER_SECRET_KEY": SECRET_KEY, **env}
    )


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


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


def all_events(client) -> list[dict]:
    """Every audit event, newest first, through every page."""
    events, cursor = [], None
    while True:
        r = client.get("/v1/audit", params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        events += r.json()["items"]
        cursor = r.json().get("next_cursor")
        if cursor is None:
            return events


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code:
        assert body["error"] == code, body
    return body


def legacy_key(store, tenant_id: str, scopes: list[str] | None = None) -> str:
    """A key as keys were made before SHA-256 (argon2id at rest), put straight into the store; its
    plaintext. Such keys still verify, with argon2 once per worker."""
    from uuid import UUID, uuid4

    from auth import apikeys
    from store.models import ApiKey, utcnow

    plaintext, prefix = apikeys.mint()
    key = ApiKey(
        id=uuid4(),
        tenant_id=UUID(tenant_id),
        name="legacy",
        prefix=prefix,
        secret_hash=apikeys.hash_key_argon2(plaintext),
        created_at=utcnow(),
        scopes=list(scopes or []),
    )
    with store.write() as s:
        s.api_keys.add(key)
    return plaintext
