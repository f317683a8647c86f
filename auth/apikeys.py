"""Registry API keys: minting, argon2id hashing, and verification that pays argon2 once per key.

Plaintext:  bp_<22 chars of base64url>  (16 random bytes), shown to the caller once.
Prefix:     bp_ plus the next 8 characters, stored for display and look-up.
At rest:    argon2id|<salt-b64>|<hash-b64>, argon2id with time=1, memory=64 MiB, lanes=4, 32 bytes.

Repeated verifies: after argon2 accepts a plaintext for a key, the verifier remembers, in process
memory only, an HMAC of that plaintext under a random per-process secret, tied to the key's id and
stored hash. A later verify still reads the key row from the store (so a revocation or a frozen
tenant takes effect at once, in every worker), but compares HMACs instead of running argon2.
Nothing derived from the plaintext is ever written to the store besides the argon2 hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from datetime import timedelta

from argon2.low_level import Type, hash_secret_raw

from store.models import INACTIVE_TENANT_STATUSES, ApiKey, utcnow

PREFIX = "bp_"
_PLAINTEXT = re.compile(r"bp_[A-Za-z0-9_-]{22}")
TIME_COST, MEMORY_KIB, LANES, HASH_LEN, SALT_LEN = 1, 64 * 1024, 4, 32, 16
SCHEME = "argon2id"
# last_used_at is kept to the minute: a use writes only when the recorded one is older, so a
# product verifying the same key in a loop causes reads only.
TOUCH_EVERY = timedelta(minutes=1)


def mint() -> tuple[str, str]:
    """A new (plaintext, display prefix)."""
    plaintext = PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
    return plaintext, display_prefix(plaintext)


def display_prefix(plaintext: str) -> str:
    return plaintext[: len(PREFIX) + 8]


def well_formed(plaintext: str) -> bool:
    return bool(_PLAINTEXT.fullmatch(plaintext))


def _argon2(secret: str, salt: bytes) -> bytes:
    return hash_secret_raw(
        secret.encode(),
        salt,
        time_cost=TIME_COST,
        memory_cost=MEMORY_KIB,
        parallelism=LANES,
        hash_len=HASH_LEN,
        type=Type.ID,
    )


def hash_key(plaintext: str) -> str:
    salt = secrets.token_bytes(SALT_LEN)
    digest = _argon2(plaintext, salt)
    return "|".join((SCHEME, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def check_hash(plaintext: str, stored: str) -> bool:
    """Constant-time argon2id check of a plaintext against its stored form."""
    try:
        scheme, salt_b64, hash_b64 = stored.split("|")
        if scheme != SCHEME:
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    except ValueError:
        return False
    return hmac.compare_digest(_argon2(plaintext, salt), expected)


class KeyVerifier:
    """Remembers which plaintexts argon2 already accepted, per key and stored hash, in memory."""

    def __init__(self, capacity: int = 10_000):
        self._secret = secrets.token_bytes(32)
        self._seen: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self.argon2_runs = 0  # observable, for tests and benchmarks

    def _tag(self, plaintext: str) -> bytes:
        return hmac.new(self._secret, plaintext.encode(), hashlib.sha256).digest()

    def matches(self, key_id: str, stored_hash: str, plaintext: str, before_hashing=None) -> bool:
        """Whether plaintext is the key. `before_hashing`, when given, is called before an argon2
        run (and may raise to refuse it); a key this worker verified before never needs one."""
        slot = (key_id, stored_hash)
        tag = self._tag(plaintext)
        with self._lock:
            known = self._seen.get(slot)
            if known is not None:
                self._seen.move_to_end(slot)
        if known is not None:
            return hmac.compare_digest(known, tag)
        if before_hashing is not None:
            before_hashing()
        self.argon2_runs += 1
        if not check_hash(plaintext, stored_hash):
            return False
        with self._lock:
            self._seen[slot] = tag
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
        return True


def authenticate(store, verifier: KeyVerifier, plaintext: str, before_hashing=None) -> ApiKey | None:
    """The live key this plaintext is (not revoked, its tenant not switched off), or None.

    Reads the key row every time, so a revocation or a frozen tenant counts at once in every
    worker; runs argon2 only the first time this worker sees the key, after `before_hashing()`
    (a rate limit, say). Records the use.
    """
    if not well_formed(plaintext):
        return None
    with store.read() as s:
        candidates = s.api_keys.by_prefix(display_prefix(plaintext))
    for key, tenant_status in candidates:
        if key.revoked_at is not None or tenant_status in INACTIVE_TENANT_STATUSES:
            continue
        if verifier.matches(str(key.id), key.secret_hash, plaintext, before_hashing):
            now = utcnow()
            if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
                with store.write() as s:
                    s.api_keys.touch(key.id, now)
            return key
    return None
