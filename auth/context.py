"""What identity and access keep per process: the key verifier, tokens over this worker's signing
keys, the rate limits, and the settings they were made with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from auth import ratelimit
from auth.apikeys import KeyVerifier
from auth.settings import AuthSettings
from auth.signing import KeyRing
from auth.tokens import LEEWAY_S, Tokens
from store.interface import Store


@dataclass(frozen=True)
class Auth:
    settings: AuthSettings
    keys: KeyVerifier
    tokens: Tokens
    limits: ratelimit.Limits


def build(store: Store, env: Mapping[str, str]) -> Auth:
    """Auth over `store`, configured by `env` (SystemExit naming what is wrong in it)."""
    settings = AuthSettings.from_env(env)
    try:
        limits = ratelimit.Limits(ratelimit.parse(settings.rate_limits))
    except ValueError as exc:
        raise SystemExit(f"CHARTER_RATE_LIMITS: {exc}") from None
    keyring = KeyRing(
        store,
        rotate_every=timedelta(seconds=settings.key_rotation),
        outlives_by=timedelta(seconds=settings.longest_token + LEEWAY_S),
    )
    tokens = Tokens(keyring, issuer=settings.issuer, audience=settings.audience)
    return Auth(settings, KeyVerifier(), tokens, limits)
