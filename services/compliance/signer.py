"""The platform key that signs every log's checkpoints: Ed25519, made on first use and kept in the
store with its private half sealed under CHARTER_SECRET_KEY (charter.sealing). Of keys made at
once by several workers the oldest is the one every worker signs with."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from charter.sealing import Sealer
from services.compliance import notes
from store.interface import Store
from store.models import LedgerKey, utcnow


def where(key_id: str) -> bytes:
    return f"ledger_keys:{key_id}".encode()


def public_pem(public_key: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def published(key: LedgerKey) -> dict:
    """A key as GET /v1/compliance/keys lists it."""
    return {
        "key_id": key.key_id,
        "algorithm": "ed25519",
        "public_key_pem": public_pem(key.public_key),
        "note_verifier_key": notes.verifier_key(key.name, key.public_key),
    }


@dataclass
class Signer:
    sealer: Sealer
    issuer: str  # CHARTER_JWT_ISSUER: the signer's name and the start of every origin
    _current: tuple[LedgerKey, Ed25519PrivateKey] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not notes.valid_name(self.issuer):
            raise ValueError("CHARTER_JWT_ISSUER names the checkpoint signer: no spaces and no '+'")

    def origin(self, log_id: str) -> str:
        return f"{self.issuer}/audit/{log_id}"

    def current(self, uow: Store) -> tuple[LedgerKey, Ed25519PrivateKey]:
        """The signing key and its private half (made and stored when there is none)."""
        with self._lock:
            if self._current is None:
                with uow.read() as s:
                    keys = s.ledger.keys()
                if not keys:
                    private = Ed25519PrivateKey.generate()
                    public = private.public_key().public_bytes_raw()
                    key_id = notes.key_id(self.issuer, public)
                    sealed = self.sealer.seal(private.private_bytes_raw(), where(key_id))
                    with uow.write() as s:
                        s.ledger.add_key(LedgerKey(key_id, self.issuer, public, sealed, utcnow()))
                    with uow.read() as s:
                        keys = s.ledger.keys()
                key = keys[0]
                raw = self.sealer.open(key.private_sealed, where(key.key_id))
                self._current = (key, Ed25519PrivateKey.from_private_bytes(raw))
            return self._current

    def keys(self, uow: Store) -> list[LedgerKey]:
        with uow.read() as s:
            return s.ledger.keys()
