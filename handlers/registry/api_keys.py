"""API keys: create (plaintext shown once), list, revoke, verify."""

from __future__ import annotations

from uuid import UUID, uuid4

from connexion import NoContent

from auth import access, apikeys
from auth import audit as _audit
from charter import runtime
from charter.errors import ApiError
from handlers.registry import _tenancy, _wire
from store.models import ApiKey, utcnow

WARNING = "Store this key now: it is shown only once and cannot be recovered."


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
        s.audit.append(
            _audit.event(
                "api_key.created",
                tenant_id=key.tenant_id,
                target_type="api_key",
                target_id=key.id,
                target_name=key.name,
                product=key.product,
                metadata={"prefix": key.prefix, "scopes": key.scopes},
            )
        )
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
        if key is None or not access.sees(key.tenant_id):
            raise ApiError(404, f"no API key with id {id}", "api_key_not_found")
        if s.api_keys.revoke(key_id, utcnow()):
            s.audit.append(
                _audit.event(
                    "api_key.revoked",
                    tenant_id=key.tenant_id,
                    target_type="api_key",
                    target_id=key.id,
                    target_name=key.name,
                    product=key.product,
                )
            )
    return NoContent, 204


def verify(body):
    """Public: the key is the credential. An address with too many failures gets 429 before
    anything is checked. A key prefix with too many failures that cost an argon2 run gets 429
    instead of another run; a key this worker verified before needs none and always passes, so
    knowing a key's prefix does not let anyone lock the key out (auth.ratelimit)."""
    svc, ip = runtime.services(), runtime.caller().source_ip
    svc.limits.check(svc.store, "verify", ip=ip)
    key = svc.limits.key_attempt(svc.store, svc.keys, body["key"], "verify", ip=ip)
    if key is None:
        return {"valid": False}
    out = {"valid": True, "tenant_id": str(key.tenant_id), "scopes": list(key.scopes)}
    if key.product is not None:
        out["product"] = key.product
    return out
