"""Rate limits on the credential checks (login, API key exchange, registry key verify), on the
licensing calls an app makes (validate, heartbeat, recover), and on arbitration packages.

Each limit allows a burst of N requests, refilled at N per window (GCRA, store.models.gcra), per
client address and per account or key. The counters live in the store, so every worker of every
instance on one database shares them.

- Per address: login counts every attempt (each costs an argon2 run). Key exchange and key
  verify count failures only, and refuse only failures: a key that verifies is never refused,
  so one bad client behind a shared gateway cannot block the gateway's other clients.
- Per account or key: failures only. A failed login counts against its account. A failed key
  of the kind made before SHA-256 counts against its display prefix when it cost an argon2 run,
  and a prefix over its limit refuses further argon2 runs (keys made now never need one: see
  auth.apikeys). (An account can still be locked out by someone failing its password: that is
  what a per-account limit is.)

Licensing's validate and heartbeat are counted in each worker (Limits.fits_here) and refused as
the Keysat client expects, with 200 `ok: false, reason: rate_limited`; recover is counted in the
store, across workers, and refused with 429.

Configured by CHARTER_RATE_LIMITS, a comma-separated list of `<action>.<per>=<count>/<seconds>`
or `<action>.<per>=off`, over the defaults below. Subjects are stored hashed: the limiter table
holds no email addresses or key prefixes.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from auth import apikeys
from charter.domain import RateLimited
from store.models import RateBucket, gcra_fit

DEFAULTS: dict[str, tuple[int, int] | None] = {
    "login.ip": (30, 60),  # attempts
    "login.account": (10, 60),  # failures
    "exchange.ip": (60, 60),  # failures
    "exchange.key": (20, 60),  # argon2 runs that failed, for one prefix of a key made before SHA-256
    "verify.ip": (60, 60),  # failures
    "verify.key": (20, 60),  # the same, for verify
    "recover.ip": (10, 60),  # licensing key recoveries (POST /licensing/{slug}/v1/recover), every attempt
    "arbitration.tenant": (5, 60),  # arbitration packages of dispute cases, per tenant, every one made
    # Counted in each worker (Limits.fits_here): the licensing calls an app makes all the time.
    "validate.ip": (300, 60),  # POST /licensing/{slug}/v1/validate, every call, per client address
    "validate.key": (60, 60),  # the same, per license key presented
    "heartbeat.license": (60, 3600),  # POST /licensing/{slug}/v1/machines/heartbeat, per license
}
LOCAL_CAPACITY = 100_000  # buckets one worker keeps before it drops the ones that are full again


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: float

    @property
    def interval(self) -> float:
        return self.seconds / self.count


def parse(spec: str) -> dict[str, Rule]:
    """The defaults with CHARTER_RATE_LIMITS applied; ValueError on anything malformed."""
    values = dict(DEFAULTS)
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if not sep or name not in DEFAULTS:
            raise ValueError(f"unknown rate limit {name!r}; known: {', '.join(DEFAULTS)}")
        if value == "off":
            values[name] = None
            continue
        count, slash, seconds = value.partition("/")
        try:
            parsed = (int(count), int(seconds))
        except ValueError:
            parsed = (0, 0)
        if not slash or parsed[0] < 1 or parsed[1] < 1:
            raise ValueError(f"rate limit {name} must be <count>/<seconds> or off, got {value!r}")
        values[name] = parsed
    return {name: Rule(*v) for name, v in values.items() if v is not None}


class Limits:
    def __init__(self, rules: dict[str, Rule]):
        self.rules = rules
        self._here: dict[str, float] = {}  # fits_here's buckets: key -> theoretical arrival time
        self._lock = threading.Lock()

    def buckets(self, action: str, **subjects: str | None) -> list[RateBucket]:
        out = []
        for per, subject in subjects.items():
            rule = self.rules.get(f"{action}.{per}")
            if rule is not None and subject:
                digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
                out.append(RateBucket(f"{action}.{per}:{digest}", rule.interval, rule.count))
        return out

    def acquire(self, store, action: str, **subjects: str | None) -> None:
        """Count one attempt; RateLimited (and nothing counted) when any limit is used up."""
        _refuse(action, self._wait(store, action, subjects, count=True))

    def check(self, store, action: str, **subjects: str | None) -> None:
        """RateLimited when one more attempt would not fit; counts nothing."""
        _refuse(action, self._wait(store, action, subjects, count=False))

    def fits_here(self, action: str, **subjects: str | None) -> bool:
        """Count one call in this worker only, and whether it fits every limit (nothing is counted
        when it does not). For the licensing calls an app makes on every start and every few
        minutes, where a store write per call would cost more than the limit protects: each
        worker keeps its own counts, so with W workers a client gets up to W times the limit."""
        buckets = self.buckets(action, **subjects)
        if not buckets:
            return True
        now = time.time()
        with self._lock:
            new_tats, wait = gcra_fit(buckets, self._here, now)
            if wait > 0:
                return False
            if len(self._here) >= LOCAL_CAPACITY:
                self._here = {k: t for k, t in self._here.items() if t > now}
            self._here.update(new_tats)
        return True

    def key_attempt(self, store, verifier, plaintext: str, action: str, ip: str | None):
        """The live key `plaintext` is (auth.apikeys.authenticate), or None; a key that verifies
        is never refused. A failure counts against the address (`<action>.ip`), and once that is
        used up the failure answers RateLimited instead; a failure that cost an argon2 run (a key
        made before SHA-256) counts against the key's prefix too (`<action>.key`), and a prefix
        over its limit gets RateLimited instead of another run."""
        prefix = apikeys.display_prefix(plaintext) if apikeys.well_formed(plaintext) else None
        hashed: list = []

        def before_hashing() -> None:
            self.check(store, action, key=prefix)
            hashed.append(True)

        key = apikeys.authenticate(store, verifier, plaintext, before_hashing)
        if key is None:
            self.check(store, action, ip=ip)
            self.charge(store, action, ip=ip, key=prefix if hashed else None)
        return key

    def charge(self, store, action: str, **subjects: str | None) -> None:
        """Count a failed attempt (one that check() let through)."""
        self._wait(store, action, subjects, count=True)

    def _wait(self, store, action: str, subjects: dict, *, count: bool) -> float:
        """Seconds until one more attempt fits (0: it fits, and is counted when `count`)."""
        buckets = self.buckets(action, **subjects)
        if not buckets:
            return 0.0
        if count:
            with store.write() as s:
                return s.rate_limits.acquire(buckets, time.time())
        with store.read() as s:
            return s.rate_limits.peek(buckets, time.time())


def _refuse(action: str, wait: float) -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(f"too many {action} attempts; retry in {seconds} s", seconds)
