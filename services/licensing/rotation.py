"""Rotating a tenant's issuer key (POST /v1/admin/issuer/rotate).

The key format names no key, so rotation cannot retire what a key signed: the signing key is
marked retired and a new one made, which signs every license issued from then on. A license
keeps the key that signed it: its key text stays byte-identical and validates online as before,
and GET /v1/pubkey goes on listing the retired key (in `keys`, with `retired_at`) beside the new
signing one. An offline verifier that embeds only the old PEM fails `bad_signature` on licenses
issued after the rotation, so the event `issuer_key.rotated` (a webhook, with the new key set as
its data) tells the vendor to ship the new PEM, or every PEM in `keys`, with the next release.
Only a tenant_admin may rotate.
"""

from __future__ import annotations

from dataclasses import replace

from charter.domain import Actor, Event
from services.licensing import apikeys, publickeys, tenancy
from services.licensing.issuer import Issuer
from store.interface import Store
from store.models import utcnow


def rotate(uow: Store, actor: Actor, issuer: Issuer, slug: str) -> dict:
    apikeys.require_manager(actor, "rotates the issuer key")
    with uow.write() as s:
        tenant = tenancy.administered(s, actor, slug)
        s.tenants.get(tenant.id, for_update=True)  # one rotation at a time
        old = s.issuer_keys.signing(tenant.id)
        if old is not None:
            s.issuer_keys.save(replace(old, retired_at=utcnow()))
        new = issuer.signing_key(s, tenant.id)
        keys = publickeys.listing(new, s.issuer_keys.list(tenant.id))
        s.record(
            Event(
                "issuer_key.rotated",
                actor,
                "issuer_key",
                str(new.id),
                tenant_id=tenant.id,
                metadata={"retired": str(old.id) if old else None},
                data=keys,
            )
        )
    return keys
