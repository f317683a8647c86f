"""The security gate: every operation's `security` from the spec, decided for one request.

Built once at start-up from the merged spec (as charter.validation builds validators once);
auth.middleware runs it for every routed request, before validation. For an operation:

1. public (`security: []`): passes untouched;
2. otherwise the `Authorization: Bearer` credential is authenticated, by the schemes the
   operation accepts: `bearerAuth` takes an access token (a JWT of ours) or the bootstrap admin
   key, `serviceKey` takes a registry API key (bp_…, rate-limited per address and key). Missing
   or invalid: 401;
3. a token's session (or the API key behind a service token) must still be live: a logout or a
   revocation counts at once, in every worker (one store read per request);
4. the tenant header contract: when the caller is bound to a tenant, an `x-tenant-id` naming
   another answers 401 (and is audited) before any handler runs; a platform caller's
   `x-tenant-id` narrows what it may see to that tenant;
5. the operation's scopes must be among the caller's permissions (auth.roles): else 403;
6. a support session's reads are audited here; its writes are audited by the handlers, marked
   as support. The answer is the principal to bind for the handler.

Store calls run on the handler thread pool when the store blocks, never on the event loop.
"""

from __future__ import annotations

import functools
import hmac
import re
import time
from dataclasses import dataclass
from uuid import UUID

from auth import apikeys, roles
from auth.context import Auth
from auth.principal import ADMIN_KEY, API_KEY, SERVICE, SESSION_KINDS, SUPPORT, Principal
from auth.tokens import InvalidToken
from charter import runtime
from charter.domain import Event, Forbidden, Invalid, Unauthorized
from charter.specs import operations
from store.errors import MissingReference
from store.models import INACTIVE_TENANT_STATUSES, utcnow

TOKEN = "bearerAuth"  # an access token, or the bootstrap admin key
KEY = "serviceKey"  # a registry API key
SCHEMES = (TOKEN, KEY)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ADMIN = Principal(
    kind=ADMIN_KEY,
    subject="bootstrap",
    tenant_id=None,
    roles=("platform_admin",),
    permissions=roles.ALL_PERMISSIONS,
    platform=True,
)


_GRANTED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Requirement:
    """An operation's security: alternatives of (scheme, scopes); none at all means public."""

    alternatives: tuple[tuple[str, frozenset[str]], ...]
    schemes: frozenset[str] = frozenset()  # of the alternatives, derived

    def __post_init__(self) -> None:
        object.__setattr__(self, "schemes", frozenset(s for s, _ in self.alternatives))

    @property
    def public(self) -> bool:
        return not self.alternatives

    def accepts(self, scheme: str) -> bool:
        return scheme in self.schemes

    def missing(self, scheme: str, principal: Principal) -> frozenset[str]:
        """Scopes the principal lacks for the closest alternative of its scheme (empty: granted)."""
        gaps = []
        for s, scopes in self.alternatives:
            if s == scheme:
                if scopes <= principal.permissions:
                    return _GRANTED
                gaps.append(scopes - principal.permissions)
        return min(gaps, key=len) if gaps else frozenset({"(another credential)"})


def requirement_of(operation: dict) -> Requirement:
    """ValueError for what the middleware cannot enforce (charter check reports it)."""
    alternatives = []
    for alternative in operation.get("security") or []:
        if len(alternative) != 1:
            raise ValueError("each security alternative must name exactly one scheme")
        ((scheme, scopes),) = alternative.items()
        if scheme not in SCHEMES:
            raise ValueError(f"unknown security scheme {scheme!r}; known: {', '.join(SCHEMES)}")
        unknown = set(scopes) - roles.ALL_PERMISSIONS
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}; permissions are listed in auth/roles.py")
        alternatives.append((scheme, frozenset(scopes)))
    return Requirement(tuple(alternatives))


def requirements(spec: dict) -> dict[str, Requirement]:
    # An operation that declares nothing fails closed (any access token); `charter check` refuses it.
    return {
        op["operationId"]: requirement_of(op) if "security" in op else Requirement(((TOKEN, frozenset()),))
        for _, _, op in operations(spec)
    }


def _unauthorized(message: str, code: str = "unauthorized") -> Unauthorized:
    return Unauthorized(message, code)  # charter.errors adds the WWW-Authenticate challenge


class Gate:
    def __init__(self, services: runtime.Services, spec: dict):
        self.services = services
        self.auth = services.get(Auth)
        self.rules = requirements(spec)
        admin = self.auth.settings.admin_key
        self._admin = admin.encode("utf-8") if admin else None  # as the header's bytes carry it
        self._inline = bool(getattr(services.store, "never_blocks", False))

    async def _blocking(self, fn, *args):
        if self._inline:
            return fn(*args)
        return await self.services.runner.call(functools.partial(fn, *args), {})

    async def admit(
        self, operation_id: str | None, method: str, path: str, headers: dict, defer=None
    ) -> Principal | None:
        """The principal the request's credentials stand for, None for a public operation (or
        none matched); Unauthorized, Forbidden or RateLimited when it may not call the operation.

        Whether a token's session is still live is a store read. On a store that blocks, a
        caller that gives `defer` receives that check (a function raising the 401) to run in the
        handler's turn instead of a hand-off of its own (charter.dispatch.BEFORE)."""
        requirement = self.rules.get(operation_id) if operation_id is not None else None
        if requirement is None or requirement.public:
            return None
        principal, scheme = await self._authenticate(headers.get(b"authorization"), requirement, defer)
        principal = await self._tenant_contract(principal, headers.get(b"x-tenant-id"), method, path)
        missing = requirement.missing(scheme, principal)
        if missing:
            raise Forbidden(
                f"this operation needs {', '.join(sorted(missing))}, which this "
                f"{principal.kind} credential does not grant"
            )
        if principal.kind == SUPPORT and method in ("GET", "HEAD"):
            await self._blocking(
                self._audit, "support_session.read", principal, "operation", operation_id, method, path
            )
        return principal

    # ------------------------------------------------------------------------ authentication

    async def _authenticate(self, raw: bytes | None, requirement: Requirement, defer=None) -> tuple[Principal, str]:
        presented = raw[7:].strip() if raw and raw[:7].lower() == b"bearer " else b""
        credential = presented.decode("latin-1")
        if not credential:
            raise _unauthorized("this operation needs `Authorization: Bearer <credential>`")
        if credential.startswith(apikeys.PREFIX):
            if not requirement.accepts(KEY):
                raise _unauthorized(
                    "an API key is not accepted here: exchange it for an access token at POST /v1/auth/token",
                    "invalid_token",
                )
            return await self._blocking(self._key_principal, credential, runtime.caller().source_ip), KEY
        if not requirement.accepts(TOKEN):
            raise _unauthorized("this operation takes a registry API key (bp_…)", "invalid_api_key")
        tokens = self.auth.tokens
        # A token this worker verified before: its cache entry is the exact token text, so this
        # look-up reveals nothing about the admin key, which is compared in constant time below.
        principal = tokens.cached(credential, time.time())
        if principal is None:
            # constant time in the key's content (compare_digest may reveal only its length)
            if self._admin is not None and hmac.compare_digest(presented, self._admin):
                return ADMIN, TOKEN
            try:
                principal = await self._blocking(tokens.verify, credential)
            except InvalidToken as exc:
                raise _unauthorized(str(exc), "invalid_token") from None
        if self._inline:
            self._require_live(principal)
        elif defer is not None:
            defer(functools.partial(self._require_live, principal))
        else:
            await self._blocking(self._require_live, principal)
        return principal, TOKEN

    def _require_live(self, principal: Principal) -> None:
        if not self._live(principal):
            raise _unauthorized(
                "the token no longer works: logged out, its key revoked, or its tenant switched off", "token_revoked"
            )

    def _live(self, principal: Principal) -> bool:
        with self.services.store.read() as s:
            if principal.kind in SESSION_KINDS:
                return s.auth_sessions.live(principal.session_id, utcnow())
            if principal.kind == SERVICE:
                standing = s.api_keys.standing(principal.session_id)
                return standing is not None and standing[0] is None and standing[1] not in INACTIVE_TENANT_STATUSES
        return True

    def _key_principal(self, plaintext: str, ip: str | None) -> Principal:
        """A key that verifies passes; failures count against the address, and against a key
        prefix when they cost an argon2 run, each refusing further failures once used up
        (auth.ratelimit)."""
        store, limits = self.services.store, self.auth.limits
        key = limits.key_attempt(store, self.auth.keys, plaintext, "exchange", ip)
        if key is None:
            raise _unauthorized(
                "the API key is not valid (unknown, revoked, or its tenant is not active)", "invalid_api_key"
            )
        return Principal(
            kind=API_KEY,
            subject=str(key.id),
            tenant_id=key.tenant_id,
            roles=(),
            permissions=roles.key_permissions(key.scopes),
            session_id=key.id,
            scopes=tuple(key.scopes),
        )

    # ------------------------------------------------------------------ tenant header contract

    async def _tenant_contract(self, principal: Principal, raw: bytes | None, method: str, path: str) -> Principal:
        if raw is None:
            return principal
        text = raw.decode("latin-1").strip()
        asserted = UUID(text) if _UUID.fullmatch(text) else None
        if principal.tenant_id is None:
            if asserted is None:
                raise Invalid("x-tenant-id must be a tenant id (a UUID)")
            return principal.acting_for(asserted)
        if asserted != principal.tenant_id:
            await self._blocking(self._audit, "auth.tenant_mismatch", principal, "tenant", text[:100], method, path)
            raise _unauthorized("x-tenant-id names another tenant than the credential is bound to", "tenant_mismatch")
        return principal

    def _audit(
        self, action: str, principal: Principal, target_type: str, target_id: str, method: str, path: str
    ) -> None:
        """An event the gate itself records (a header mismatch, a support session's read)."""
        actor = principal.as_actor(runtime.caller())
        metadata = {"method": method, "path": path}
        self._record(Event(action, actor, target_type, target_id, tenant_id=principal.tenant_id, metadata=metadata))

    def _record(self, event: Event) -> None:
        try:
            with self.services.store.write() as s:
                s.record(event)
        except MissingReference:  # the caller's tenant is gone; keep the event without it
            event.tenant_id = None
            with self.services.store.write() as s:
                s.record(event)
