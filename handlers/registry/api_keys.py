"""API keys: create (plaintext shown once), list, revoke, verify."""

from __future__ import annotations

from uuid import UUID

from connexion import NoContent

from charter import runtime
from charter.runtime import actor, store
from handlers.registry import _wire
from services.identity.api import auth
from services.registry import api_keys

WARNING = "Store this key now: it is shown only once and cannot be recovered."


def create(body: dict) -> tuple[dict, int]:
    key, plaintext = api_keys.create(
        store(),
        actor(),
        tenant_id=UUID(body["tenant_id"]),
        name=body["name"],
        scopes=body.get("scopes") or [],
        product=body.get("product"),
        created_by=body.get("created_by"),
    )
    return {"api_key": _wire.api_key(key), "plaintext": plaintext, "warning": WARNING}, 201


def list_for_tenant(tenant_id: str) -> dict:
    return {"items": [_wire.api_key(k) for k in api_keys.list_for_tenant(store(), actor(), UUID(tenant_id))]}


def revoke(id: str) -> tuple[object, int]:
    api_keys.revoke(store(), actor(), UUID(id))
    return NoContent, 204


def verify(body: dict) -> dict:
    """Public: the key is the credential (rate-limited per address and key prefix)."""
    key = api_keys.verify(store(), auth(), body["key"], runtime.caller().source_ip)
    if key is None:
        return {"valid": False}
    out = {"valid": True, "tenant_id": str(key.tenant_id), "scopes": list(key.scopes)}
    if key.product is not None:
        out["product"] = key.product
    return out
