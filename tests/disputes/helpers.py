"""A tenant with the compliance entitlement, its people, and the dispute calls the tests make."""

from __future__ import annotations

import hashlib

from tests.helpers import bearer, create_tenant
from tests.identity.helpers import session

CASES = "/v1/disputes/cases"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grant(client, tenant: dict) -> dict:
    """The tenant, now holding `compliance` (granted by the platform)."""
    r = client.post("/v1/entitlements", json={"tenant_id": tenant["id"], "product": "compliance"})
    assert r.status_code == 201, r.text
    return tenant


def compliant_tenant(client, **fields) -> dict:
    return grant(client, create_tenant(client, **fields))


def in_(tenant: dict) -> dict:
    return {"x-tenant-id": tenant["id"]}


def admin_of(client, store, tenant: dict) -> dict:
    """A tenant_admin of the tenant, signed in: its headers, and its user id as `user_id`."""
    signed = session(client, store, ["tenant_admin"], tenant["id"])
    return {**bearer(signed["access_token"]), "user_id": signed["user_id"]}


def headers(who: dict) -> dict:
    return {k: v for k, v in who.items() if k != "user_id"}


def open_case(client, tenant: dict, **fields) -> dict:
    body = {"subject_type": "payment", "subject_id": "pay_123", **fields}
    r = client.post(CASES, json=body, headers=in_(tenant))
    assert r.status_code == 201, r.text
    return r.json()


def evidence_body(data: bytes = b"the signed receipt", **fields) -> dict:
    return {"kind": "receipt", "sha256": digest(data), "size": len(data), "media_type": "application/pdf", **fields}
