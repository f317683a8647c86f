"""The format of a security table row, and the callers the role matrix knows.

Each API has one table, `tests/security/tables/<api>.py`, whose `ROWS` maps every operationId of
that API to a `Row`:

- `probe`: what the BOLA probe does with it. `Scoped`: the request templates whose placeholders
  (PLACEHOLDER_NAMES: {tenant_id}, {slug}, {case_id}, {license_id}, …) mark every position that
  names a tenant's object
  (path ids, query and body fields; the x-tenant-id header is a position of every operation).
  `Public`: why no tenant object is involved, and a sanity request with what it answers.
- `access`: what the role matrix expects: who may call it (written by hand, not derived from
  auth/roles.py), the status an allowed call answers and the one audit event it leaves, what
  everyone else gets, and how to build the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- the callers

PLATFORM_ADMIN_KEY = "platform_admin (bootstrap key)"
PLATFORM_ADMIN = "platform_admin (login)"
SUPPORT = "support (platform login)"
SUPPORT_SESSION = "support session in B"
TENANT_ADMIN = "tenant_admin of B"
TENANT_MEMBER = "tenant_member of B"
SERVICE_READ = "service token of B, read scopes"
SERVICE_WRITE = "service token of B, write scopes"
SERVICE_NONE = "service token of B, no Charter scope"
SERVICE_PLATFORM = "service token of B claiming platform scopes"
ANONYMOUS = "anonymous (no credential)"

CALLERS = [
    PLATFORM_ADMIN_KEY,
    PLATFORM_ADMIN,
    SUPPORT,
    SUPPORT_SESSION,
    TENANT_ADMIN,
    TENANT_MEMBER,
    SERVICE_READ,
    SERVICE_WRITE,
    SERVICE_NONE,
    SERVICE_PLATFORM,
]
PLATFORM_CALLERS = {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT}  # bound to no tenant
SERVICES = {SERVICE_READ, SERVICE_WRITE, SERVICE_NONE, SERVICE_PLATFORM}

EVERYONE = frozenset(CALLERS)  # every credential
PUBLIC = EVERYONE | {ANONYMOUS}  # and no credential at all: `security: []`
LIFECYCLE = frozenset({PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT})
READERS = frozenset(
    {PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT, SUPPORT_SESSION, TENANT_ADMIN, TENANT_MEMBER, SERVICE_READ}
)
WRITERS_IN_B = frozenset({PLATFORM_ADMIN_KEY, PLATFORM_ADMIN, SUPPORT_SESSION, TENANT_ADMIN, SERVICE_WRITE})
# Service tokens hold registry scopes only: the APIs whose permissions none of them names are read
# and written by people and the platform alone.
PEOPLE_READERS = READERS - {SERVICE_READ}
PEOPLE_WRITERS = WRITERS_IN_B - {SERVICE_WRITE}
SIGNED_IN = frozenset({PLATFORM_ADMIN, SUPPORT, SUPPORT_SESSION, TENANT_ADMIN, TENANT_MEMBER})  # have a session

# ----------------------------------------------------------------------------- the probe

# The ids a tenant's objects have. {key_id} is a registry API key, {api_key_id} a licensing one;
# the licensing ids ({product_id} to {subscription_id}) name objects under the tenant's prefix.
PLACEHOLDER_NAMES = (
    "tenant_id",
    "slug",
    "key_id",
    "action",
    "endpoint_id",
    "delivery_id",
    "case_id",
    "product_id",
    "policy_id",
    "license_id",
    "machine_id",
    "invoice_id",
    "subscription_id",
    "api_key_id",
    "export_id",
)
PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDER_NAMES) + r")\}")


@dataclass(frozen=True)
class Route:
    """One request shape of an operation. Placeholders mark where a tenant's ids go."""

    method: str
    path: str
    params: dict = field(default_factory=dict)
    json: dict | None = None
    # error codes that prove the handler ran on the object (stateful re-runs), besides a 2xx
    reached: frozenset = frozenset()
    # a filter position (not an object reference): A's value answers 2xx with no items
    listing: bool = False
    # "header": B's credentials go in Authorization (which of them: the operation's security
    # schemes say); "body": B's users' email and password go in the body (sign-in)
    credential: str = "header"
    # the answer a probe must get, when it is not the usual rule (x-tenant-id=A: 401
    # tenant_mismatch; no permission: 403 forbidden; else 404): (placed, header) -> (status,
    # code), where placed maps each position to "A" or "B" and header is "A", "B" or None
    expect: Callable[[dict, str | None], tuple[int, str]] | None = None
    # a call ends the credential it is made with (logout): probes and controls get fresh ones
    spends_credential: bool = False
    # which platform credential proves the handler is reachable with B's ids (None: none can,
    # the positive controls prove it)
    platform_via: str | None = "bootstrap key"
    # more that B's own answer must show: (B's ids, the answer's JSON) -> a problem, or None
    control_check: Callable[[Any, Any], str | None] | None = None
    # B's credentials (by test_bola's names: tenant_admin, tenant_member, service_token,
    # support_session) that the operation refuses with 403 `forbidden` whatever their
    # permissions, before any object is looked up (what only a tenant_admin may do, say)
    refused: frozenset = frozenset()


@dataclass(frozen=True, init=False)
class Scoped:
    """An operation that may name a tenant's object: every position it has is probed.
    `Scoped(route, ..., waived={position: why}, public=False)`."""

    routes: tuple[Route, ...]
    # positions of the spec that are no object reference, and why
    waived: dict
    # `security: []` and still tenant-scoped: its credential travels in the body
    public: bool

    def __init__(self, *routes: Route, waived: dict | None = None, public: bool = False):
        object.__setattr__(self, "routes", routes)
        object.__setattr__(self, "waived", dict(waived or {}))
        object.__setattr__(self, "public", public)


@dataclass(frozen=True)
class Public:
    """An operation with `security: []` that names no tenant object: why, and a sanity request
    (sent with B's credentials, with and without A's x-tenant-id, and with none)."""

    why: str
    route: Route  # its placeholders take B's values
    expect: tuple[int, str | None] = (200, None)
    check: Callable[[Any], str | None] | None = None  # the answer's JSON -> a problem, or None
    # positions of the spec that name a tenant and are still no secret, and why (the slug of a
    # tenant's public licensing service: anyone may call it, by design)
    waived: dict = field(default_factory=dict)


# ------------------------------------------------------------------------ the role matrix


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: dict | None = None
    json: dict | None = None
    headers: dict | None = None  # besides the credential (x-tenant-id, say)
    content: bytes | None = None  # a body sent as these exact bytes (a signed one), instead of json


@dataclass(frozen=True)
class Access:
    """Who may call an operation (function-level authorization), by hand."""

    allowed: frozenset[str]
    status: int  # what an allowed call answers
    # the request, from the matrix's context (tests/security/test_roles.py: Ctx): its caller,
    # request id, tenant B and helpers to make fresh objects. None: the probe's first route
    # with B's ids
    request: Callable[[Any], Call] | None = None
    # the audit event an allowed call leaves (or the events, when one call records several changes)
    writes: str | tuple[str, ...] | None = None
    denied: tuple[int, str] = (403, "forbidden")  # what a credential not allowed gets
    # "token": each caller sends its access token; "key": service callers send the API key
    # their token was exchanged from (the others still their token)
    credential: str = "token"
    spends_credential: bool = False  # each caller calls it with a fresh credential of its kind
    last: bool = False  # a wrong grant would break B for the rest of the matrix: call it last


@dataclass(frozen=True)
class Row:
    probe: Scoped | Public
    access: Access


def template_positions(route: Route) -> list[str]:
    """The positions a route's placeholders fill: `path:<name>`, `query:<name>`, `body:<name>`."""
    out = [f"path:{m[1]}" for m in PLACEHOLDER.finditer(route.path)]
    out += [f"query:{k}" for k, v in route.params.items() if isinstance(v, str) and PLACEHOLDER.fullmatch(v)]
    out += [f"body:{k}" for k, v in (route.json or {}).items() if isinstance(v, str) and PLACEHOLDER.fullmatch(v)]
    return out
