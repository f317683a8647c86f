"""Access tokens: EdDSA JWTs that name who is calling, for which tenant, with what roles.

Header: alg EdDSA, typ JWT, kid. Claims: iss, aud, sub, iat, nbf, exp, jti, sid (the session, or
for a service token the API key, that must still be live), kind (user | support | service),
roles, tid (absent for a platform caller), scope (a service token's API key scopes) and reason (a
support session's).

Verification accepts EdDSA only: a token saying `none`, HS256 (keyed with our public key, say) or
RS256 is refused before any key is looked at, as is one whose kid no live key has. Each worker
remembers the tokens it has verified until they expire, so a token costs one signature check per
worker, not one per request; whether its session is still live is asked on every request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from uuid import UUID

import jwt

from auth import roles
from auth.principal import SERVICE, SUPPORT, USER, Principal
from auth.signing import MISSING, KeyRing

ALGORITHM = "EdDSA"
LEEWAY_S = 5
REQUIRED = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid"]
KINDS = (USER, SUPPORT, SERVICE)


class InvalidToken(Exception):
    """The bearer token is not one this server issued and still honours; str() says why."""


class Tokens:
    def __init__(self, keyring: KeyRing, *, issuer: str, audience: str, capacity: int = 20_000):
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self._verified: dict[str, Principal] = {}
        self._capacity = capacity

    # ------------------------------------------------------------------------------- minting

    def mint(
        self,
        *,
        kind: str,
        subject: str,
        session_id: UUID,
        ttl: int,
        roles_: Iterable[str] = (),
        tenant_id: UUID | None = None,
        scopes: Iterable[str] = (),
        reason: str | None = None,
    ) -> tuple[str, int]:
        """A signed token and its exp (epoch seconds)."""
        claims: dict = {"sub": subject, "sid": str(session_id), "kind": kind, "roles": list(roles_)}
        if tenant_id is not None:
            claims["tid"] = str(tenant_id)
        scopes = list(scopes)
        if scopes:
            claims["scope"] = " ".join(scopes)
        if reason is not None:
            claims["reason"] = reason
        return self.sign(claims, audience=self.audience, ttl=ttl)

    def sign(self, claims: dict, *, audience: str, ttl: int) -> tuple[str, int]:
        """`claims` signed as one of our JWTs for `audience` (an access token's, or another such
        as a download link's), with iss, aud, iat, nbf, exp and jti added; and its exp."""
        kid, key = self.keyring.signer()
        now = int(time.time())
        full = {"iss": self.issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        return jwt.encode({**claims, **full}, key, algorithm=ALGORITHM, headers={"kid": kid}), now + ttl

    # --------------------------------------------------------------------------- verification

    def cached(self, token: str, now: float) -> Principal | None:
        """The principal of a token this worker verified before and that has not expired."""
        principal = self._verified.get(token)
        if principal is None:
            return None
        if principal.expires_at is not None and principal.expires_at > now:
            return principal
        self._verified.pop(token, None)
        return None

    def verify(self, token: str) -> Principal:
        """Check signature and claims (may read the store once for an unknown kid); remember it."""
        claims = self.decode(token, audience=self.audience, required=REQUIRED)
        principal = _principal(claims)
        if len(self._verified) >= self._capacity:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = principal
        return principal

    def decode(self, token: str, *, audience: str, required: Iterable[str]) -> dict:
        """The claims of a token we signed for `audience`, its signature, times and issuer
        checked; InvalidToken saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the bearer token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"tokens are signed with {ALGORITHM}, not {header.get('alg')!r}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no signing key (kid)")
        key = self.keyring.known(kid, time.time())
        if key is MISSING:
            key = self.keyring.load(kid)
        if key is None:
            raise InvalidToken("the token's signing key is unknown or expired")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": list(required)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token does not verify: {exc}") from None
        return dict(claims)


def _principal(claims: dict) -> Principal:
    """The principal a verified token stands for; InvalidToken when its claims do not fit."""
    kind, role_list = claims.get("kind"), claims.get("roles")
    if kind not in KINDS or not isinstance(role_list, list) or not all(isinstance(r, str) for r in role_list):
        raise InvalidToken("the token's kind or roles are malformed")
    try:
        tenant_id = UUID(claims["tid"]) if "tid" in claims else None
        session_id = UUID(claims["sid"])
    except (ValueError, TypeError, AttributeError):
        raise InvalidToken("the token's tid or sid is not a UUID") from None
    scope, reason = claims.get("scope", ""), claims.get("reason")
    if not isinstance(scope, str) or not (reason is None or isinstance(reason, str)):
        raise InvalidToken("the token's scope or reason is malformed")
    if kind != USER and tenant_id is None:
        raise InvalidToken(f"a {kind} token must name its tenant")
    scopes = tuple(scope.split())
    if kind == SUPPORT:
        granted = frozenset(roles.SUPPORT_SESSION)
    elif kind == SERVICE:
        granted = roles.key_permissions(scopes)
    else:
        granted = roles.permissions(role_list, tenant_bound=tenant_id is not None)
    return Principal(
        kind=kind,
        subject=str(claims["sub"]),
        tenant_id=tenant_id,
        roles=tuple(role_list),
        permissions=granted,
        session_id=session_id,
        token_id=str(claims["jti"]),
        expires_at=int(claims["exp"]),
        scopes=scopes,
        reason=reason,
        platform=tenant_id is None,
    )
