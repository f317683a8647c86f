"""Secrets at rest: AES-256-GCM under CHARTER_SECRET_KEY (the standard base64 of 32 bytes).

What a store must keep but nobody may read from it (an answer carrying a new API key's plaintext,
later webhook signing secrets) is sealed: a random 96-bit nonce, then the ciphertext and its tag.
The associated data binds a sealed value to where it is kept, so a sealed value moved to another
row does not open.

A secret that need not be kept at all is derived instead (Sealer.derive: HKDF-SHA256 under the
same key, with a label naming what it is for), so nothing of it is in the store.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
ENV = "CHARTER_SECRET_KEY"


class BadKey(ValueError):
    pass


def parse_key(text: str) -> bytes:
    """The key CHARTER_SECRET_KEY holds; BadKey saying what is wrong with it."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadKey(f"{ENV} must be the standard base64 of {KEY_BYTES} random bytes") from None
    if len(key) != KEY_BYTES:
        raise BadKey(f"{ENV} must be the standard base64 of {KEY_BYTES} random bytes, not {len(key)}")
    return key


def new_key() -> str:
    """A fresh key, as CHARTER_SECRET_KEY holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise BadKey(f"a sealing key is {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self._key = key

    def derive(self, label: bytes, length: int = 32) -> bytes:
        """A secret for `label` alone, the same every time under this key (HKDF-SHA256, RFC 5869)."""
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"charter-derive", info=label).derive(self._key)

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, where)

    def open(self, sealed: bytes, where: bytes) -> bytes:
        """The plaintext; ValueError when it was sealed under another key or for another place."""
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], where)
        except InvalidTag:
            raise ValueError("sealed under another key, or for another place") from None
