"""Registry API keys: minting, hashing at rest, and verification that never costs a good key a refusal.

Plaintext:  bp_<22 chars of base64url>  (16 random bytes), shown to the caller once.
Prefix:     bp_ plus the next 8 characters, stored for display and look-up.
At rest:    sha256|<hex of SHA-256 of the plaintext>.

Why SHA-256 and not a memory-hard hash: the key is 128 random bits, so no dictionary or brute
force reaches it, whatever the hash; argon2 protects low-entropy secrets (passwords, which do use
it). What argon2 cost here was 64 MiB and ~40 ms for every verify of a key a worker had not seen,
which had to be rationed per key prefix, and a prefix is shown in listings: whoever knew it could
use up the ration and have a good key refused. A SHA-256 check costs a microsecond, so nothing is
rationed and a key that verifies is never refused.

Keys made before hold argon2id|<salt-b64>|<hash-b64> (time=1, memory=64 MiB, lanes=4, 32 bytes)
and still verify: argon2 runs only for such a key, under its prefix's limit (auth.ratelimit), and
once per worker, which then remembers, in process memory only, an HMAC of the accepted plaintext
under a per-process secret. Every verify reads the key row (a revocation or a frozen tenant takes
effect at once, in every worker).
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
SCHEME = "sha256"
LEGACY_SCHEME = "argon2id"  # keys made before SHA-256: verified, never made
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


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def hash_key(plaintext: str) -> str:
    """What the store keeps of a new key."""
    return f"{SCHEME}|{_digest(plaintext)}"


def hash_key_argon2(plaintext: str) -> str:
    """The form keys made before SHA-256 have (for tests and benchmarks of that path)."""
    salt = secrets.token_bytes(SALT_LEN)
    digest = _argon2(plaintext, salt)
    return "|".join((LEGACY_SCHEME, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def is_legacy(stored: str) -> bool:
    return stored.startswith(LEGACY_SCHEME + "|")


def check_hash(plaintext: str, stored: str) -> bool:
    """Constant-time check of a plaintext against its stored form, either scheme."""
    scheme, _, rest = stored.partition("|")
    if scheme == SCHEME:
        return hmac.compare_digest(_digest(plaintext), rest)
    if scheme != LEGACY_SCHEME:
        return False
    try:
        salt_b64, hash_b64 = rest.split("|")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    except ValueError:
        return False
    return hmac.compare_digest(_argon2(plaintext, salt), expected)


class KeyVerifier:
    """Checks a plaintext against a stored key: SHA-256 at once; a key made before, with argon2
    once per worker, then by an HMAC this worker remembers in memory."""

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
        run (and may raise to refuse it); only a key made before SHA-256 that this worker has not
        verified yet needs one."""
        if not is_legacy(stored_hash):
            return check_hash(plaintext, stored_hash)
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
    worker; for a key made before SHA-256, runs argon2 only the first time this worker sees it,
    after `before_hashing()` (a rate limit, say). Records the use.
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
