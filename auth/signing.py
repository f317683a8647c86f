"""Token signing keys: Ed25519, one per worker process, the private half never outside it.

A worker makes its key when it first signs, and publishes the public half to the store (as a JWK
whose kid is its RFC 7638 thumbprint). Any worker of any instance verifies a token by looking its
kid up there, once, and remembers the key. A worker signs with one key for `rotate_every`, then
makes a new one; the old public key stays published until the last token it signed has expired
(`outlives_by`, the longest token lifetime plus leeway). No signing secret is ever at rest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from store.models import SigningKey, utcnow

MISSING = object()  # known(): not in this process's cache, ask the store
_KID = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest
LOOKUPS_PER_SECOND = 20  # store look-ups of kids this worker does not know, at most


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict:
    x = _b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    # RFC 7638: the required members, sorted, no whitespace.
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


def from_jwk(jwk: dict) -> Ed25519PublicKey | None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        return None
    try:
        raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


class KeyRing:
    def __init__(self, store, *, rotate_every: timedelta, outlives_by: timedelta):
        self._store = store
        self._rotate_every = rotate_every
        self._outlives_by = outlives_by
        self._lock = threading.Lock()
        self._current: tuple[str, Ed25519PrivateKey, datetime] | None = None
        self._public: dict[str, tuple[Ed25519PublicKey, float]] = {}  # kid -> (key, expires epoch)
        self._allowance = float(LOOKUPS_PER_SECOND)
        self._allowance_at = time.monotonic()

    def signer(self) -> tuple[str, Ed25519PrivateKey]:
        """(kid, private key) to sign with now; makes and publishes a new key when due."""
        now = utcnow()
        with self._lock:
            if self._current is None or now >= self._current[2]:
                self._current = self._publish(now)
            kid, key, _ = self._current
        return kid, key

    def rotate(self) -> str:
        """Sign with a new key from now on; the old one stays published until it expires."""
        with self._lock:
            self._current = self._publish(utcnow())
            return self._current[0]

    def _publish(self, now: datetime) -> tuple[str, Ed25519PrivateKey, datetime]:
        private = Ed25519PrivateKey.generate()
        jwk = public_jwk(private.public_key())
        record = SigningKey(
            kid=jwk["kid"],
            public_jwk=jwk,
            created_at=now,
            sign_until=now + self._rotate_every,
            expires_at=now + self._rotate_every + self._outlives_by,
        )
        with self._store.write() as s:
            s.signing_keys.prune(now)
            s.signing_keys.add(record)
        self._public[record.kid] = (private.public_key(), record.expires_at.timestamp())
        return record.kid, private, record.sign_until

    def known(self, kid: str, now: float):
        """The public key for kid from this process's memory: the key, None when it expired or
        cannot be one of ours, or MISSING when only the store can tell."""
        entry = self._public.get(kid)
        if entry is not None:
            return entry[0] if entry[1] > now else None
        return MISSING if _KID.fullmatch(kid) else None

    def load(self, kid: str) -> Ed25519PublicKey | None:
        """Look a kid up in the store (a read); None when unknown or expired. Look-ups are capped
        per second, so tokens with made-up kids cannot turn into a stream of queries."""
        if not self._spend_lookup():
            return None
        with self._store.read() as s:
            record = s.signing_keys.get(kid)
        if record is None or record.expires_at <= utcnow():
            return None
        key = from_jwk(record.public_jwk)
        if key is not None:
            self._public[kid] = (key, record.expires_at.timestamp())
        return key

    def published(self) -> list[dict]:
        """The JWKS `keys`: every public key not yet expired, newest first."""
        with self._store.read() as s:
            return [dict(k.public_jwk) for k in s.signing_keys.live(utcnow())]

    def _spend_lookup(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._allowance = min(
                float(LOOKUPS_PER_SECOND), self._allowance + (now - self._allowance_at) * LOOKUPS_PER_SECOND
            )
            self._allowance_at = now
            if self._allowance < 1:
                return False
            self._allowance -= 1
            return True
