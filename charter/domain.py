"""What the spine shares with services and the store: who acts, what happened, and what went wrong.

- `Actor`: who does something (a user, a support session, a service token, an API key, the
  bootstrap key, the CLI, the system or a job), for which tenant, under which request or job id.
  Every service takes one explicitly, so a job or a CLI command is audited as itself.
- `Event`: a domain event a service records on its unit of work; the store's commit writes it as
  an audit row in the same transaction as the change, and, for an event of the webhook catalog
  (one that carries `data`), its outbox rows.
- `DomainError` and its kinds: what services raise. charter.errors maps each kind to a status in
  one table; the error's `code` is the stable code on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

# Actor kinds. The first five come from credentials (auth); the rest act without one.
USER = "user"  # an access token of a login session
SUPPORT = "support"  # a support user inside one tenant, with a reason
SERVICE = "service"  # an access token minted from an API key
API_KEY = "api_key"  # an API key presented where an operation takes one
ADMIN_KEY = "admin_key"  # the bootstrap key
CLI = "cli"  # the `charter` command
SYSTEM = "system"  # the server itself (start-up, housekeeping)
JOB = "job"  # a background job
ANONYMOUS = "anonymous"  # nobody authenticated yet (a sign-in attempt, a public operation)
# Kinds that act for the platform, not for one tenant: no tenant's caller may claim one.
PLATFORM_KINDS = frozenset({ADMIN_KEY, SUPPORT, CLI, SYSTEM, JOB})


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str
    id: str | None = None  # user id, API key id, "bootstrap", a job's name…
    tenant_id: UUID | None = None  # the one tenant it acts in; None: the platform, every tenant
    request_id: str | None = None  # the request, or the job run, it acts under
    source_ip: str | None = None
    user_agent: str | None = None
    session_id: UUID | None = None  # the session (or API key) behind its credential
    reason: str | None = None  # why a support session was opened

    def sees(self, tenant_id: UUID | None) -> bool:
        """Whether this actor may see what belongs to `tenant_id` (None: to no tenant). Nobody
        authenticated sees nothing: a handler reached that way by mistake shows nothing."""
        if self.kind == ANONYMOUS:
            return False
        return self.tenant_id is None or self.tenant_id == tenant_id

    def as_(self, kind: str, id: str | None) -> Actor:
        """The same request, attributed to someone else (a sign-in names its user once known)."""
        return Actor(kind, id, self.tenant_id, self.request_id, self.source_ip, self.user_agent)

    def audit_metadata(self) -> dict[str, Any]:
        """What every audit row of this actor's carries in its metadata."""
        meta: dict[str, Any] = {"request_id": self.request_id or "-"}
        if self.kind == SUPPORT:
            meta["support_session"] = {"id": str(self.session_id), "reason": self.reason}
        return meta


def system(name: str = "charter", request_id: str | None = None) -> Actor:
    return Actor(SYSTEM, name, request_id=request_id)


@dataclass(slots=True)
class Event:
    """Something that happened, recorded on a unit of work by the service that made it happen."""

    action: str  # "tenant.created"
    actor: Actor
    target_type: str
    target_id: str
    tenant_id: UUID | None = None
    target_name: str | None = None
    product: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # An event of the webhook catalog also carries its `data` (the resource in its spec's shape),
    # and is published as `publish` (None: as its action); the commit writes its outbox rows.
    data: dict[str, Any] | None = None
    publish: str | None = None


class DomainError(Exception):
    """A rule refused the request. `code` is stable (the wire's `error`); the message is for people."""

    default_code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class Invalid(DomainError):
    """The input breaks a rule the schema cannot express."""

    default_code = "invalid_input"


class Unauthorized(DomainError):
    """The credential is missing, wrong, or no longer honoured."""

    default_code = "unauthorized"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_code = "forbidden"


class NotFound(DomainError):
    """No such thing, or one the actor may not see (the two answer alike)."""

    default_code = "not_found"


class Conflict(DomainError):
    """The thing exists already, or its state does not allow the change."""

    default_code = "conflict"


class InvalidTransition(Conflict):
    """A state machine refuses the move from the current state."""

    default_code = "invalid_transition"


class Busy(Conflict):
    """Another request holds what this one needs, for now (a retry later may succeed)."""

    default_code = "in_progress"


class PaymentRequired(DomainError):
    """The caller's plan does not allow this. `details` go into the error body beside `error` and
    `message` (a tier cap names its limit and where to upgrade)."""

    default_code = "payment_required"

    def __init__(self, message: str, code: str | None = None, **details: Any):
        super().__init__(message, code)
        self.details = details


class RateLimited(DomainError):
    default_code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (the store, say) cannot be reached."""

    default_code = "unavailable"
