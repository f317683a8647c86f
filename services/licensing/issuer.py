"""Each tenant's Ed25519 issuer key, and license keys derived from license rows.

A tenant's first key is made when it first needs one (its first license, or a look at its public
key), under a lock on the tenant's row, so concurrent first uses make one key. The private key is
kept sealed under CHARTER_SECRET_KEY (where=b"licensing-issuer:<id>"); opened keys are cached
per process by key id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from charter.sealing import Sealer
from services.licensing import keys
from services.licensing.tenancy import not_found
from store.interface import Session
from store.models import IssuerKey, License, utcnow


def where(key_id: UUID) -> bytes:
    return f"licensing-issuer:{key_id}".encode()


def fingerprint_hash(fingerprint: str) -> str:
    """The hex SHA-256 by which a machine is known (the fingerprint itself is not kept)."""
    return hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()


def payload_of(license: License) -> keys.Payload:
    return keys.Payload(
        product_id=license.product_id,
        license_id=license.id,
        issued_at=int(license.issued_at.timestamp()),
        expires_at=int(license.expires_at.timestamp()) if license.expires_at else 0,
        entitlements=tuple(license.entitlements),
        trial=license.is_trial,
    )


def pem(key: IssuerKey) -> str:
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    encoded = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return encoded.decode("ascii")


class KeyRefused(Exception):
    """A presented key this tenant's service does not honour; `reason` is the wire's."""

    def __init__(self, reason: str, license: License | None = None):
        super().__init__(reason)
        self.reason = reason
        self.license = license


@dataclass
class Issuer:
    sealer: Sealer
    _private: dict[UUID, Ed25519PrivateKey] = field(default_factory=dict)
    _public: dict[UUID, Ed25519PublicKey] = field(default_factory=dict)

    def signing_key(self, s: Session, tenant_id: UUID) -> IssuerKey:
        """The key that signs the tenant's new licenses, made now when it has none (in a write session)."""
        key = s.issuer_keys.signing(tenant_id)
        if key is not None:
            return key
        s.tenants.get(tenant_id, for_update=True)  # one first key, however many ask at once
        key = s.issuer_keys.signing(tenant_id)
        if key is not None:
            return key
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        key_id = uuid4()
        key = IssuerKey(
            id=key_id,
            tenant_id=tenant_id,
            public_key=private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
            private_sealed=self.sealer.seal(raw, where(key_id)),
            created_at=utcnow(),
        )
        s.issuer_keys.add(key)
        return key

    def key_text(self, s: Session, license: License) -> str:
        """The license's key: the same text every time it is asked for."""
        signing = s.issuer_keys.get(license.issuer_key_id)
        if signing is None:  # a license always names the key that signed it
            raise not_found(f"the issuer key of license {license.id} is gone")
        return keys.sign(payload_of(license), self._open(signing))

    def _open(self, key: IssuerKey) -> Ed25519PrivateKey:
        private = self._private.get(key.id)
        if private is None:
            raw = self.sealer.open(key.private_sealed, where(key.id))
            private = self._private[key.id] = Ed25519PrivateKey.from_private_bytes(raw)
        return private

    def _verifier(self, key: IssuerKey) -> Ed25519PublicKey:
        public = self._public.get(key.id)
        if public is None:
            public = self._public[key.id] = Ed25519PublicKey.from_public_bytes(key.public_key)
        return public

    def _verifier_of(self, s: Session, key_id: UUID) -> Ed25519PublicKey | None:
        """The public key of `key_id`, read once per worker: a key's bytes never change."""
        public = self._public.get(key_id)
        if public is None:
            key = s.issuer_keys.get(key_id)
            if key is None:
                return None
            public = self._verifier(key)
        return public

    def honoured(
        self, s: Session, tenant_id: UUID, text: str, read: tuple[License | None] | None = None
    ) -> tuple[License, keys.Payload]:
        """The tenant's license a presented key stands for, and what the key says; KeyRefused
        with `bad_format`, `bad_signature` (also for another tenant's key) or `not_found`.
        `read`: the license of the key's id, read already (tenancy.served_with)."""
        try:
            data, signature = keys.split(text)
            payload = keys.parse(data)
        except keys.BadFormat:
            raise KeyRefused("bad_format") from None
        license = s.licenses.get(payload.license_id) if read is None else read[0]
        if license is None or license.tenant_id != tenant_id:
            signed_here = any(keys.verifies(data, signature, self._verifier(k)) for k in s.issuer_keys.list(tenant_id))
            raise KeyRefused("not_found" if signed_here else "bad_signature")
        signer = self._verifier_of(s, license.issuer_key_id)
        if signer is None or not keys.verifies(data, signature, signer):
            raise KeyRefused("bad_signature")
        if payload.product_id != license.product_id:  # signed by us, yet not this license's: never issued
            raise KeyRefused("invalid_state", license)
        return license, payload
