"""API keys: create (plaintext shown once), list, revoke, verify."""
from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from connexion import NoContent

from auth import apikeys
from charter import runtime
from charter.errors import ApiError
from handlers.registry import _audit, _tenancy, _wire
from store.models import ApiKey, utcnow

WARNING = "Store this key now: it is shown only once and cannot be recovered."
# last_used_at is kept to the minute: a verify writes only when the recorded use is older, so the
# hot path of a headless product calling verify in a loop is a single read.
TOUCH_EVERY = timedelta(minutes=1)


def create(body):
    plaintext, prefix = apikeys.mint()
    key = ApiKey(
        id=uuid4(),
        tenant_id=UUID(body["tenant_id"]),
        name=body["name"],
        prefix=prefix,
        secret_hash=apikeys.hash_key(plaintext),
        created_at=utcnow(),
        scopes=list(body.get("scopes") or []),
        product=body.get("product"),
        created_by=body.get("created_by"),
    )
    with runtime.store().write() as s:
        _tenancy.existing(s, key.tenant_id)
        s.api_keys.add(key)
        s.audit.append(_audit.event(
            "api_key.created", tenant_id=key.tenant_id, target_type="api_key",
            target_id=key.id, target_name=key.name, product=key.product,
            metadata={"prefix": key.prefix, "scopes": key.scopes},
        ))
    return {"api_key": _wire.api_key(key), "plaintext": plaintext, "warning": WARNING}, 201


def list_for_tenant(tenant_id):
    with runtime.store().read() as s:
        _tenancy.existing(s, tenant_id)
        keys = s.api_keys.list(UUID(tenant_id))
    return {"items": [_wire.api_key(k) for k in keys]}


def revoke(id):
    key_id = UUID(id)
    with runtime.store().write() as s:
        key = s.api_keys.get(key_id)
        if key is None:
            raise ApiError(404, f"no API key with id {id}", "api_key_not_found")
        if s.api_keys.revoke(key_id, utcnow()):
            s.audit.append(_audit.event(
                "api_key.revoked", tenant_id=key.tenant_id, target_type="api_key",
                target_id=key.id, target_name=key.name, product=key.product,
            ))
    return NoContent, 204


def verify(body):
    plaintext = body["key"]
    if not apikeys.well_formed(plaintext):
        return {"valid": False}
    with runtime.store().read() as s:
        candidates = s.api_keys.by_prefix(apikeys.display_prefix(plaintext))
    verifier = runtime.services().keys
    for key, tenant_status in candidates:
        if key.revoked_at is not None or tenant_status in _tenancy.INACTIVE:
            continue
        if verifier.matches(str(key.id), key.secret_hash, plaintext):
            now = utcnow()
            if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
                with runtime.store().write() as s:
                    s.api_keys.touch(key.id, now)
            out = {"valid": True, "tenant_id": str(key.tenant_id), "scopes": list(key.scopes)}
            if key.product is not None:
                out["product"] = key.product
            return out
    return {"valid": False}
