"""The storage interface: one Protocol per aggregate, one per API group of them, the Session that
combines the groups, and the Store.

A Session is one transaction. `store.write()` is atomic: every change and the audit rows of the
events it records commit together or not at all. `store.read()` never writes. Implementations:
store.memory, store.sql; mypy checks both against these Protocols (see store/__init__.py).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from store.models import (
    ApiKey,
    AuditDraft,
    AuditEvent,
    AuditExport,
    AuditQuery,
    AuthSession,
    Checkpoint,
    DiscountCode,
    DisputeCase,
    DisputeEvidence,
    DisputeNote,
    Entitlement,
    Invoice,
    IssuerKey,
    Job,
    KeptAnswer,
    LedgerHead,
    LedgerKey,
    License,
    LicensePolicy,
    LicenseProduct,
    Machine,
    Membership,
    RateBucket,
    RefreshToken,
    SigningKey,
    Tenant,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

if TYPE_CHECKING:
    from charter.domain import Event


class Tenants(Protocol):
    def add(self, tenant: Tenant) -> None:
        """Insert; raises Conflict("slug") when the slug is taken."""

    def get(self, tenant_id: UUID, *, for_update: bool = False) -> Tenant | None: ...

    def get_by_slug(self, slug: str) -> Tenant | None: ...

    def save(self, tenant: Tenant) -> None:
        """Overwrite the mutable fields of an existing tenant."""

    def delete(self, tenant_id: UUID) -> bool:
        """Remove a tenant; False when there is none. Its rows in other aggregates go as each
        declares (memory: `on_tenant_delete`; SQL: the foreign keys' ON DELETE): entitlements,
        keys, memberships, sessions bound to it and their refresh tokens are deleted; its audit
        events and its log stay exactly as they were (they are keyed by tenant id, with no foreign
        key: append-only evidence)."""


class Entitlements(Protocol):
    def list(self, tenant_id: UUID) -> list[Entitlement]: ...

    def get(self, tenant_id: UUID, product: str) -> Entitlement | None: ...

    def add(self, entitlement: Entitlement) -> None:
        """Insert; raises Conflict("entitlement") when the tenant holds the product already."""

    def remove(self, tenant_id: UUID, product: str) -> Entitlement | None:
        """Delete the tenant's entitlement of the product; what it was, or None when not held."""


class ApiKeys(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: UUID) -> ApiKey | None: ...

    def list(self, tenant_id: UUID) -> list[ApiKey]: ...

    def by_prefix(self, prefix: str) -> builtins.list[tuple[ApiKey, str]]:
        """Keys with this display prefix, each with its tenant's status."""

    def revoke(self, key_id: UUID, at: datetime) -> bool:
        """Set revoked_at if unset; True when this call revoked it."""

    def touch(self, key_id: UUID, at: datetime) -> None:
        """Record a successful use."""

    def standing(self, key_id: UUID) -> tuple[datetime | None, str] | None:
        """(revoked_at, its tenant's status) of a key, None when there is no such key. Read on
        every request made with a token minted from the key, so one round trip."""


class WebhookEndpoints(Protocol):
    def add(self, endpoint: WebhookEndpoint) -> None:
        """Insert; raises MissingReference("tenant") when its tenant does not exist."""

    def get(self, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint | None: ...

    def list(self, tenant_id: UUID | None) -> builtins.list[WebhookEndpoint]:
        """The tenant's endpoints (every tenant's when None), oldest first."""

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Write every field but tenant_id and created_at; KeyError for an unknown endpoint."""

    def delete(self, endpoint_id: UUID) -> bool:
        """True when this call removed it."""


class WebhookEvents(Protocol):
    def add(self, event: WebhookEvent) -> None:
        """MissingReference when its tenant does not exist."""

    def get(self, event_id: UUID) -> WebhookEvent | None: ...


class WebhookDeliveries(Protocol):
    def add(self, delivery: WebhookDelivery) -> None:
        """MissingReference when its endpoint (or event) does not exist."""

    def get(self, delivery_id: UUID, *, for_update: bool = False) -> WebhookDelivery | None: ...

    def with_parts(self, delivery_id: UUID) -> tuple[WebhookDelivery, WebhookEndpoint, WebhookEvent] | None:
        """The delivery with its endpoint and its event (what an attempt needs, in one read)."""

    def save(self, delivery: WebhookDelivery, *, unchanged_since: datetime | None = None) -> bool:
        """Write its status, attempts, next_attempt_at, tries and updated_at; True. With
        `unchanged_since` (the updated_at of the version read), only if the stored delivery is
        still that version: False, writing nothing, when it has changed since or is gone (an
        optimistic write, no lock taken first). Without it, KeyError when there is none."""

    def list(
        self,
        *,
        tenant_id: UUID | None = None,
        endpoint_id: UUID | None = None,
        statuses: Sequence[str] | None = None,
        since: datetime | None = None,
        before: tuple[datetime, UUID] | None = None,
        limit: int = 50,
    ) -> builtins.list[WebhookDelivery]:
        """Newest first (created_at, then id, descending); `before` keeps those after that
        position in this order; `since` keeps those created at or after it."""

    def backlog(self, endpoint_id: UUID) -> int:
        """How many of its deliveries are pending or failed (waiting for an attempt)."""


class Audit(Protocol):
    def append(self, draft: AuditDraft) -> AuditEvent:
        """Store the event and append it to its log (its tenant's, or the platform's) in the same
        transaction: the next seq, its leaf hash and the subtrees it completes, under the log's
        head row. Raises MissingReference when draft.tenant_id names no tenant."""

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        """Up to query.limit events, newest first."""


class Ledger(Protocol):
    """The verifiable audit logs (appended by Audit.append), read-only but for checkpoints and keys."""

    def head(self, log_id: str) -> LedgerHead | None: ...

    def heads(self) -> builtins.list[LedgerHead]:
        """Every log's head, by log id."""

    def event(self, log_id: str, seq: int) -> AuditEvent | None: ...

    def events(self, log_id: str, start: int, end: int) -> builtins.list[AuditEvent]:
        """The events with start <= seq < end, in seq order."""

    def node(self, log_id: str, level: int, index: int) -> bytes | None:
        """The stored hash of a complete subtree (level 0: a leaf hash)."""

    def leaves(self, log_id: str, start: int, end: int) -> builtins.list[bytes]:
        """The stored leaf hashes of start <= seq < end, in order."""

    def checkpoint(self, log_id: str, size: int | None = None) -> Checkpoint | None:
        """The checkpoint at that size, or the largest one when size is None."""

    def checkpoints(self, log_id: str) -> builtins.list[Checkpoint]:
        """Every checkpoint of the log, smallest first."""

    def add_checkpoint(self, checkpoint: Checkpoint) -> Checkpoint:
        """Keep it unless one of that log and size is kept already; the one kept."""

    def keys(self) -> builtins.list[LedgerKey]:
        """Every signing key, oldest first."""

    def add_key(self, key: LedgerKey) -> None: ...


class Users(Protocol):
    def add(self, user: User) -> None:
        """Insert; raises Conflict("email") when the email is taken (emails are lower-cased)."""

    def get(self, user_id: UUID) -> User | None: ...

    def by_email(self, email: str) -> User | None: ...

    def save(self, user: User) -> None:
        """Overwrite password_hash, platform_roles and disabled_at of an existing user."""


class Memberships(Protocol):
    def put(self, membership: Membership) -> None:
        """Insert, or replace the roles of, the user's membership in the tenant. Raises
        MissingReference when the user or the tenant does not exist."""

    def get(self, user_id: UUID, tenant_id: UUID) -> Membership | None: ...

    def for_user(self, user_id: UUID) -> list[Membership]:
        """Every membership of the user, ordered by tenant id."""


class AuthSessions(Protocol):
    def add(self, session: AuthSession) -> None:
        """Insert; raises MissingReference when its user or tenant does not exist."""

    def get(self, session_id: UUID) -> AuthSession | None: ...

    def revoke(self, session_id: UUID, at: datetime) -> bool:
        """Set revoked_at if unset; True when this call revoked it."""

    def live(self, session_id: UUID, at: datetime) -> bool:
        """True when the session exists, is not revoked, expires after `at`, and, for a login
        session bound to a tenant, that tenant is not switched off (INACTIVE_TENANT_STATUSES:
        support sessions may still look into a frozen tenant). Read on every request made with
        one of its access tokens, so one round trip."""


class RefreshTokens(Protocol):
    def add(self, token: RefreshToken) -> None:
        """Insert; raises MissingReference when its session does not exist."""

    def by_hash(self, token_hash: str) -> RefreshToken | None: ...

    def rotate(self, token_id: UUID, at: datetime) -> bool:
        """Set rotated_at if unset; True when this call did. Of two concurrent uses of one token,
        exactly one gets True: the other is a reuse."""


class SigningKeys(Protocol):
    def add(self, key: SigningKey) -> None:
        """Insert; raises Conflict("kid") when the kid exists."""

    def get(self, kid: str) -> SigningKey | None: ...

    def live(self, at: datetime) -> list[SigningKey]:
        """Keys that expire after `at`, newest first: what the JWKS publishes."""

    def prune(self, at: datetime) -> int:
        """Delete keys that expired at or before `at`; returns how many."""


class RateLimits(Protocol):
    def peek(self, buckets: list[RateBucket], now: float) -> float:
        """Seconds to wait before one more request fits every bucket (0: it fits). Changes
        nothing; works in a read session."""

    def acquire(self, buckets: list[RateBucket], now: float) -> float:
        """All or nothing: when one more request fits every bucket, record it in each and return
        0; otherwise change nothing and return the seconds to wait. Atomic against every other
        worker and instance on the same database."""


class KeptAnswers(Protocol):
    def get(self, scope: str, key_hash: str, at: datetime) -> KeptAnswer | None:
        """The answer kept for the key, None when there is none or it expired at or before `at`."""

    def put(self, answer: KeptAnswer) -> None:
        """Keep it, in place of an expired one for the same key. Every so often also deletes
        answers that have expired."""

    def prune(self, at: datetime) -> int:
        """Delete up to one batch of answers that expired at or before `at`; returns how many."""


class Jobs(Protocol):
    """Background jobs (store.models.Job). complete, fail, progress and extend take the job as
    claim() returned it and act only while that claim still holds the job: it is running, leased
    to the same worker, at the same attempt. Otherwise (its lease ran out and another worker
    claimed it) they change nothing and return False."""

    def enqueue(self, job: Job) -> Job:
        """Insert a pending job and return it; when its kind has a job with its key already,
        change nothing and return that one."""

    def get(self, job_id: UUID) -> Job | None: ...

    def claim(self, worker: str, kinds: Sequence[str], now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        """Up to `limit` due jobs of these kinds, soonest run_at first: pending ones with run_at
        at or before `now`, and running ones whose lease ran out by then (their worker was lost).
        Each is returned running, leased to `worker` until `lease_until` (its run_at), with one
        attempt more. No job goes to two concurrent claims (PostgreSQL: FOR UPDATE SKIP LOCKED;
        SQLite: one write transaction at a time; memory: the store's lock)."""

    def extend(self, job: Job, lease_until: datetime) -> bool:
        """Renew the lease to `lease_until` (a heartbeat of the worker running it)."""

    def progress(self, job: Job, done: int, total: int | None) -> bool:
        """Record how far the job is: `done` of `total` (None: not known)."""

    def complete(self, job: Job, at: datetime) -> bool:
        """The job is done, finished `at`."""

    def fail(self, job: Job, at: datetime, error: str, retry_at: datetime | None) -> bool:
        """The attempt failed with `error`: pending again from `retry_at`, or dead (finished
        `at`) when retry_at is None."""

    def counts(self) -> dict[str, int]:
        """How many jobs there are in each state that has any."""

    def prune(self, state: str, finished_before: datetime) -> int:
        """Delete up to one batch of jobs in `state` (done or dead) that finished before
        `finished_before`; returns how many."""


# ---------------------------------------------------------------------------------- licensing
# Every licensing record has a tenant: add() raises MissingReference("tenant") when it does not
# exist, and the records go when their tenant is deleted. for_update=True locks the row until the
# session ends (PostgreSQL: FOR UPDATE; SQLite: write sessions are serialised; memory: the lock).
# Lists are oldest first (created_at, then id) unless a method says otherwise; ids break ties
# by their text. A parent (a policy's product, a machine's license, …) is looked up by id alone:
# add() does not check that it is of the record's tenant, so callers find it within the tenant
# first. A record naming neither an existing tenant nor an existing parent is MissingReference("tenant").


class IssuerKeys(Protocol):
    def add(self, key: IssuerKey) -> None: ...

    def get(self, key_id: UUID) -> IssuerKey | None: ...

    def list(self, tenant_id: UUID) -> builtins.list[IssuerKey]:
        """Every key of the tenant, retired ones too, oldest first."""

    def signing(self, tenant_id: UUID) -> IssuerKey | None:
        """The newest key of the tenant that is not retired."""

    def save(self, key: IssuerKey) -> None:
        """Write retired_at; KeyError for an unknown key."""


class LicenseProducts(Protocol):
    def add(self, product: LicenseProduct) -> None:
        """Conflict("slug") when the tenant has a product of that slug."""

    def get(self, product_id: UUID) -> LicenseProduct | None: ...

    def by_slug(self, tenant_id: UUID, slug: str) -> LicenseProduct | None: ...

    def list(self, tenant_id: UUID) -> builtins.list[LicenseProduct]: ...

    def save(self, product: LicenseProduct) -> None:
        """Write every field but id, tenant_id and created_at; Conflict("slug"); KeyError when unknown."""


class LicensePolicies(Protocol):
    def add(self, policy: LicensePolicy) -> None:
        """Conflict("slug") when the product has a policy of that slug; MissingReference("product")
        when the product does not exist."""

    def get(self, policy_id: UUID) -> LicensePolicy | None: ...

    def by_slug(self, product_id: UUID, slug: str) -> LicensePolicy | None: ...

    def list(self, tenant_id: UUID, product_id: UUID | None = None) -> builtins.list[LicensePolicy]:
        """The tenant's policies (of one product when given), archived ones included."""

    def save(self, policy: LicensePolicy) -> None:
        """Write every field but id, tenant_id, product_id and created_at; Conflict("slug"); KeyError."""


class Licenses(Protocol):
    def add(self, license: License) -> None:
        """MissingReference("product") when its product does not exist."""

    def get(self, license_id: UUID, *, for_update: bool = False) -> License | None: ...

    def at_prefix(
        self, slug: str, product: str, license_id: UUID | None
    ) -> tuple[Tenant, Entitlement | None, License | None] | None:
        """The tenant of `slug`, its entitlement to `product` (None when it has none) and its
        license `license_id` (None when it has no such license, or none is asked for), read
        together: the one round trip of a call to a tenant's licensing service (validate)."""

    def list(
        self,
        tenant_id: UUID,
        *,
        product_id: UUID | None = None,
        buyer_email: str | None = None,
        invoice_id: UUID | None = None,
        limit: int = 100,
    ) -> builtins.list[License]:
        """The tenant's licenses matching every filter given (buyer_email exactly, as kept:
        lower-cased), newest first (issued_at, then id, both descending), at most `limit`."""

    def save(self, license: License) -> None:
        """Write every field but id, tenant_id, product_id, issued_at; KeyError when unknown."""

    def subscriptions(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[License]:
        """The tenant's recurring licenses (subscription not None), of that subscription status
        when given, newest first (issued_at, then id, both descending), at most `limit`."""

    def renewing(self, now: datetime, limit: int) -> builtins.list[License]:
        """Licenses of every tenant whose subscription is active or cancelled and whose expires_at
        is at or before `now`: the first to come due (expires_at, then id), at most `limit`."""


class Machines(Protocol):
    def add(self, machine: Machine) -> None:
        """Conflict("fingerprint") when the license has a machine of that fingerprint_hash (active
        or not); MissingReference("license") when the license does not exist."""

    def get(self, machine_id: UUID) -> Machine | None: ...

    def by_fingerprint(self, license_id: UUID, fingerprint_hash: str) -> Machine | None: ...

    def list(
        self, tenant_id: UUID, *, license_id: UUID | None = None, active_only: bool = False
    ) -> builtins.list[Machine]:
        """Oldest activation first."""

    def count_active(self, license_id: UUID) -> int: ...

    def save(self, machine: Machine) -> None:
        """Write every mutable field (not id, tenant_id, license_id, fingerprint_hash); KeyError."""

    def silent(self, now: datetime, limit: int) -> builtins.list[Machine]:
        """Active machines of every tenant whose seat_expires_at is before `now`, oldest first:
        the seat that ended first (seat_expires_at, then id), at most `limit`."""


class Invoices(Protocol):
    def add(self, invoice: Invoice) -> None:
        """MissingReference("product") when its product does not exist."""

    def get(self, invoice_id: UUID, *, for_update: bool = False) -> Invoice | None: ...

    def save(self, invoice: Invoice) -> None:
        """Write status, updated_at, license_id, settled_at, provider_invoice_id; KeyError."""

    def list(self, tenant_id: UUID, *, status: str | None = None, limit: int = 100) -> builtins.list[Invoice]:
        """Newest first (created_at, then id, both descending)."""

    def overdue(self, now: datetime, limit: int) -> builtins.list[Invoice]:
        """Pending invoices of every tenant whose expires_at is at or before `now`, oldest first:
        the first to expire (expires_at, then id), at most `limit`."""


class DiscountCodes(Protocol):
    def add(self, code: DiscountCode) -> None:
        """Conflict("code") when the tenant has a code of that code_hash."""

    def get(self, code_id: UUID, *, for_update: bool = False) -> DiscountCode | None: ...

    def by_hash(self, tenant_id: UUID, code_hash: str, *, for_update: bool = False) -> DiscountCode | None: ...

    def list(self, tenant_id: UUID) -> builtins.list[DiscountCode]: ...

    def save(self, code: DiscountCode) -> None:
        """Write every mutable field (not id, tenant_id, code_hash, created_at); KeyError."""


# ----------------------------------------------------------------------------------- disputes
# Every dispute record has a tenant (add(): MissingReference("tenant") when it does not exist,
# Conflict("id") for a taken id) and goes with it; evidence and notes go with their case too
# (MissingReference("case") when the case does not exist; callers find the case within the
# tenant first). Evidence and notes are append-only: no save, no delete.


class DisputeCases(Protocol):
    def add(self, case: DisputeCase) -> None: ...

    def get(self, case_id: UUID, *, for_update: bool = False) -> DisputeCase | None: ...

    def save(self, case: DisputeCase) -> None:
        """Write every field but id, tenant_id, subject_type, subject_id and created_at; KeyError."""

    def list(
        self,
        tenant_id: UUID,
        *,
        status: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[DisputeCase]:
        """The tenant's cases matching every filter given, newest first (created_at, then id, both
        descending), `offset` of them skipped, at most `limit`."""


class DisputeEvidenceRefs(Protocol):
    def add(self, evidence: DisputeEvidence) -> None: ...

    def list(self, case_id: UUID) -> builtins.list[DisputeEvidence]:
        """The case's evidence, oldest first."""


class DisputeNotes(Protocol):
    def add(self, note: DisputeNote) -> None: ...

    def list(self, case_id: UUID) -> builtins.list[DisputeNote]:
        """The case's notes, oldest first."""


class Registry(Protocol):
    """The tenant registry's repositories."""

    @property
    def tenants(self) -> Tenants: ...

    @property
    def entitlements(self) -> Entitlements: ...

    @property
    def api_keys(self) -> ApiKeys: ...

    @property
    def audit(self) -> Audit: ...


class Identity(Protocol):
    """Identity's repositories: users, sessions and tokens, signing keys, rate limits."""

    @property
    def users(self) -> Users: ...

    @property
    def memberships(self) -> Memberships: ...

    @property
    def auth_sessions(self) -> AuthSessions: ...

    @property
    def refresh_tokens(self) -> RefreshTokens: ...

    @property
    def signing_keys(self) -> SigningKeys: ...

    @property
    def rate_limits(self) -> RateLimits: ...


class Platform(Protocol):
    """What the spine keeps for every API: answers to requests made with an Idempotency-Key, and
    background jobs."""

    @property
    def kept_answers(self) -> KeptAnswers: ...

    @property
    def jobs(self) -> Jobs: ...


class Webhooks(Protocol):
    """The webhooks API's repositories: where each tenant's events go."""

    @property
    def webhook_endpoints(self) -> WebhookEndpoints: ...

    @property
    def webhook_events(self) -> WebhookEvents: ...

    @property
    def webhook_deliveries(self) -> WebhookDeliveries: ...


class Licensing(Protocol):
    """Each tenant's licensing service (specs/licensing.yaml)."""

    @property
    def issuer_keys(self) -> IssuerKeys: ...

    @property
    def license_products(self) -> LicenseProducts: ...

    @property
    def license_policies(self) -> LicensePolicies: ...

    @property
    def licenses(self) -> Licenses: ...

    @property
    def machines(self) -> Machines: ...

    @property
    def invoices(self) -> Invoices: ...

    @property
    def discount_codes(self) -> DiscountCodes: ...


class AuditExports(Protocol):
    """Audit export bundles' records (the bundles are files; see store.models.AuditExport)."""

    def add(self, export: AuditExport) -> None:
        """MissingReference("tenant") for an unknown tenant; Conflict("id") for a taken id."""

    def get(self, export_id: UUID, *, for_update: bool = False) -> AuditExport | None: ...

    def save(self, export: AuditExport) -> None:
        """Write every field but id, tenant_id, since, until, includes, requested_by and
        created_at; KeyError for an unknown export."""

    def list(
        self, tenant_id: UUID, *, before: tuple[datetime, UUID] | None = None, limit: int = 50
    ) -> builtins.list[AuditExport]:
        """The tenant's exports, newest first (created_at, then id), those before `before` only."""

    def unfinished(self, tenant_id: UUID) -> int:
        """How many of the tenant's exports are queued or running."""


class Compliance(Protocol):
    """The compliance API's repositories."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def audit_exports(self) -> AuditExports: ...


class Disputes(Protocol):
    """The disputes API's repositories (specs/disputes.yaml)."""

    @property
    def dispute_cases(self) -> DisputeCases: ...

    @property
    def dispute_evidence(self) -> DisputeEvidenceRefs: ...

    @property
    def dispute_notes(self) -> DisputeNotes: ...


class Session(Registry, Identity, Platform, Webhooks, Licensing, Compliance, Disputes, Protocol):
    """One transaction over every group's repositories: the unit of work."""

    def record(self, event: Event) -> None:
        """Keep a domain event for the commit to write (its audit row, in record order, in the same
        transaction). RuntimeError in a read session."""


class Store(Protocol):
    # Every how many appends to a log its checkpoint is due: an append that brings the log's size
    # to a multiple of it enqueues the job that signs that checkpoint (store.ledger.checkpoint_due).
    # None (the default): never. The compliance API sets it from CHARTER_CHECKPOINT_EVERY_EVENTS.
    checkpoint_every: int | None

    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...

    def exclusive(self, lock: int) -> AbstractContextManager[Session]:
        """One write transaction for a whole request, held by one request at a time per `lock`
        (a 63-bit number): every read() and write() opened inside the block, in the same
        context, joins it, a write as a savepoint (its changes, audit rows included, undone alone
        when it raises). Commits when the block ends normally, rolls everything back when it
        raises. Raises store.errors.Busy at once when another request holds `lock`, in any
        worker or instance; a worker that dies holding it lets it go."""

    def ping(self) -> None:
        """Raises Unavailable when the backing database cannot be reached."""

    def close(self) -> None: ...
