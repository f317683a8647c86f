"""Users, sessions and tokens for tests, made the way the product makes them.

Users go through services.identity.users.grant, the code behind `charter users create`; tokens come from the
real endpoints (login, key exchange, support session). The `client` fixture sends the bootstrap
key; pass `headers=bearer(token)` to act as someone else (it replaces the client's header).
"""

from __future__ import annotations

import base64
import itertools
import json
from uuid import UUID

from charter.domain import CLI, Actor
from services.identity import users
from tests.helpers import bearer, create_key, create_tenant

PASSWORD = "correct horse battery staple"
_n = itertools.count(1)


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{next(_n):04d}@example.com"


def add_user(store, roles: list[str], tenant_id=None, email: str | None = None, password: str = PASSWORD):
    """A user with these roles in tenant_id (tenant roles) or on the platform (tenant_id None)."""
    tenant = UUID(str(tenant_id)) if tenant_id is not None else None
    return users.grant(store, Actor(CLI, "cli"), email or new_email(), roles, tenant, password).user


def login(client, email: str, password: str = PASSWORD, headers: dict | None = None, **body):
    """POST /v1/auth/login without the bootstrap key; the raw response."""
    return client.post(
        "/v1/auth/login",
        json={"email": email, "password": password, **body},
        headers={"Authorization": "", **(headers or {})},
    )


def session(client, store, roles: list[str], tenant_id=None) -> dict:
    """A new user with `roles`, signed in: the login answer (access_token, refresh_token, …)."""
    user = add_user(store, roles, tenant_id)
    r = login(client, user.email, tenant_id=str(tenant_id)) if tenant_id else login(client, user.email)
    assert r.status_code == 200, r.text
    return {**r.json(), "user_id": str(user.id), "email": user.email}


def service_token(client, tenant_id: str, scopes: list[str]) -> dict:
    """A key with `scopes` for the tenant, exchanged: the exchange answer plus `plaintext` and `key_id`."""
    created = create_key(client, tenant_id, scopes=scopes)
    r = client.post("/v1/auth/token", headers=bearer(created["plaintext"]))
    assert r.status_code == 200, r.text
    return {**r.json(), "plaintext": created["plaintext"], "key_id": created["api_key"]["id"]}


def claims(token: str) -> dict:
    """A JWT's payload, unverified (for asserting what the server put in it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(token: str) -> dict:
    first = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))


def tenant(client, **fields) -> dict:
    return create_tenant(client, **fields)
