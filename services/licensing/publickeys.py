"""A tenant's public issuer keys, as GET /v1/pubkey (and the seed's /v1/issuer/public-key) give
them: the signing key's PEM, and every key on record, since the key format names no key."""

from __future__ import annotations

from services.licensing import tenancy
from services.licensing.issuer import Issuer, pem
from services.registry.shapes import ts
from store.interface import Store
from store.models import IssuerKey


def public_keys(uow: Store, issuer: Issuer, slug: str) -> dict:
    with uow.read() as s:
        tenant = tenancy.served(s, slug)
        known = s.issuer_keys.list(tenant.id)
        signing = s.issuer_keys.signing(tenant.id)
    if signing is None:  # the tenant's first look: its key is made now
        with uow.write() as s:
            tenant = tenancy.served(s, slug)
            signing = issuer.signing_key(s, tenant.id)
            known = s.issuer_keys.list(tenant.id)
    return listing(signing, known)


def listing(signing: IssuerKey, known: list[IssuerKey]) -> dict:
    """The key set's document: the signing key first, then the others, newest first."""
    ordered = [signing] + [k for k in reversed(known) if k.id != signing.id]
    return {
        "public_key_pem": pem(signing),
        "algorithm": "ed25519",
        "key_algorithm": "ed25519",
        "key_format_version": 2,
        "keys": [
            {
                "public_key_pem": pem(k),
                "created_at": ts(k.created_at),
                "signing": k.id == signing.id,
                **({"retired_at": ts(k.retired_at)} if k.retired_at else {}),
            }
            for k in ordered
        ],
    }
