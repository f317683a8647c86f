"""The records the store keeps. Plain dataclasses: no ORM, no web types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

if TYPE_CHECKING:
    from charter.domain import Event


def utcnow() -> datetime:
    return datetime.now(UTC)


# Tenants in these states are switched off: their keys do not verify, they start no trials.
INACTIVE_TENANT_STATUSES = frozenset({"frozen", "archived"})


@dataclass
class Tenant:
    id: UUID
    slug: str
    name: str
    status: str  # demo | trial | active | frozen | archived
    kind: str  # customer | demo
    plan: str
    created_at: datetime
    updated_at: datetime
    erp_customer_id: str | None = None
    stripe_cust_id: str | None = None
    trial_ends_at: datetime | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sales_owner: str | None = None


@dataclass
class Entitlement:
    tenant_id: UUID
    product: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    config: dict = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass
class ApiKey:
    id: UUID
    tenant_id: UUID
    name: str
    prefix: str
    secret_hash: str  # "sha256|<hex>" (or, made before, "argon2id|<salt>|<hash>"), never the plaintext
    created_at: datetime
    scopes: list[str] = field(default_factory=list)
    product: str | None = None
    created_by: str | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass
class WebhookEndpoint:
    """Where a tenant's events are delivered. The signing secret is kept sealed (charter.sealing,
    where=b"webhook:<id>"); during a rotation the previous one too, until previous_until."""

    id: UUID
    tenant_id: UUID
    url: str
    secret_sealed: bytes
    created_at: datetime
    updated_at: datetime
    event_types: list[str] | None = None  # None: every event
    description: str | None = None
    disabled: bool = False
    previous_secret_sealed: bytes | None = None
    previous_until: datetime | None = None
    failing_since: datetime | None = None  # the first failed attempt since the last success
    last_success_at: datetime | None = None


DELIVER = "webhooks.deliver"  # the job kind that makes one attempt of one delivery


@dataclass
class WebhookEvent:
    """An event as sent: `body` is the exact JSON text every delivery of it signs and sends."""

    id: UUID
    tenant_id: UUID
    type: str
    created_at: datetime
    body: str


@dataclass
class WebhookDelivery:
    """One event on its way to one endpoint. `status`: pending (no attempt yet, or a replay
    waiting), failed (the last attempt failed, another is due at next_attempt_at), delivered, dead
    (no attempt is left). Each attempt is {at, status_code?, duration_ms, error?}."""

    id: UUID
    tenant_id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    created_at: datetime
    updated_at: datetime
    status: str = "pending"
    attempts: list[dict] = field(default_factory=list)
    next_attempt_at: datetime | None = None
    tries: int = 0  # attempts made in the current run of the retry schedule (a replay starts one)


@dataclass
class AuditDraft:
    """An audit event before the store gives it an id and a time."""

    action: str
    tenant_id: UUID | None = None
    project_id: UUID | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    actor_type: str | None = None
    target_id: str | None = None
    target_type: str | None = None
    target_name: str | None = None
    product: str | None = None
    metadata: dict | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    # Who appended the row, as the server knows it from the credential (never from the body).
    recorded_by_kind: str | None = None
    recorded_by_id: str | None = None
    recorded_by_tenant_id: UUID | None = None


def audit_draft(event: Event) -> AuditDraft:
    """The audit row of a domain event: its actor stamped by the server, the actor's metadata
    (request id, support session) under the event's own."""
    actor = event.actor
    return AuditDraft(
        action=event.action,
        tenant_id=event.tenant_id,
        actor_id=actor.id,
        actor_type=actor.kind,
        target_id=str(event.target_id),
        target_type=event.target_type,
        target_name=event.target_name,
        product=event.product,
        metadata={**actor.audit_metadata(), **event.metadata},
        source_ip=actor.source_ip,
        user_agent=actor.user_agent,
        recorded_by_kind=actor.kind,
        recorded_by_id=actor.id,
        recorded_by_tenant_id=actor.tenant_id,
    )


@dataclass
class AuditEvent(AuditDraft):
    id: int = 0
    created_at: datetime | None = None
    log_id: str = ""  # its log: the tenant id as text, or "platform" (store.canonical.log_of)
    seq: int = 0  # its leaf index in that log, gap-free from 0


@dataclass
class LedgerHead:
    """Where a log stands: its size and its compact range (store.merkle), the hashes of the
    complete subtrees its size decomposes into, largest first, concatenated."""

    log_id: str
    size: int
    compact: bytes


@dataclass
class Checkpoint:
    """A signed checkpoint of a log at one size: its root and the signed note (C2SP tlog-checkpoint)."""

    log_id: str
    size: int
    root: bytes
    key_id: str
    note: str
    created_at: datetime


@dataclass
class LedgerKey:
    """A platform key that signs checkpoints: Ed25519, its private half sealed (charter.sealing)."""

    key_id: str
    name: str
    public_key: bytes
    private_sealed: bytes
    created_at: datetime


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the audit log. Newest first; `cursor` keeps ids below it; since <= t < until."""

    limit: int = 50
    cursor: int | None = None
    tenant_id: UUID | None = None
    product: str | None = None
    actor_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class User:
    """Someone who signs in with an email and a password."""

    id: UUID
    email: str  # lower-cased; unique
    password_hash: str  # argon2id PHC string, never the password
    created_at: datetime
    platform_roles: list[str] = field(default_factory=list)  # platform_admin, support
    disabled_at: datetime | None = None


@dataclass
class Membership:
    """A user's roles in one tenant (tenant_admin, tenant_member)."""

    user_id: UUID
    tenant_id: UUID
    roles: list[str]
    created_at: datetime


@dataclass
class AuthSession:
    """What a login (kind "login") or a support session (kind "support") holds.

    Every access token minted for it carries its id (`sid`); revoking the session stops them all
    at once. A login session also owns a family of refresh tokens.
    """

    id: UUID
    user_id: UUID
    kind: str  # login | support
    roles: list[str]
    created_at: datetime
    expires_at: datetime
    tenant_id: UUID | None = None  # None: a platform session
    reason: str | None = None  # why a support session was opened
    revoked_at: datetime | None = None


@dataclass
class RefreshToken:
    """One refresh token of a session's family. Using it rotates it; a second use is reuse."""

    id: UUID
    session_id: UUID
    token_hash: str  # SHA-256 hex of the token (256 random bits: no guessing to slow down)
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None


@dataclass
class SigningKey:
    """The public half of a token signing key. The private half never leaves its worker."""

    kid: str
    public_jwk: dict
    created_at: datetime
    sign_until: datetime  # its worker signs with it until then, then rotates
    expires_at: datetime  # sign_until plus the longest token lifetime: published until then


@dataclass(frozen=True)
class RateBucket:
    """One rate limit applied to one key: `burst` requests at once, then one per `interval` s."""

    key: str
    interval: float
    burst: int


GCRA_SLACK_S = 1e-6


def gcra(tat: float, now: float, bucket: RateBucket) -> tuple[float, float]:
    """The generic cell rate algorithm for one request: (new theoretical arrival time, wait).

    `tat` is the bucket's stored theoretical arrival time in epoch seconds (0 when it has none).
    The request is allowed when wait is 0; then the caller stores the new time. Otherwise wait is
    how many seconds until it would be allowed, and nothing should change.
    """
    new_tat = max(tat, now) + bucket.interval
    wait = new_tat - now - bucket.burst * bucket.interval
    # Epoch seconds near 1.7e9 carry rounding of about 2e-7 s: a request exactly on the boundary
    # must still fit, or a burst of 9 per 60 s would admit 8.
    return (new_tat, 0.0) if wait <= GCRA_SLACK_S else (tat, wait)


def bucket_keys(buckets: list[RateBucket]) -> list[str]:
    """The buckets' keys, sorted (the order SQL locks their rows in). A key given twice is refused
    (ValueError): one key is one bucket, and two limits on it would contradict each other."""
    keys = sorted(b.key for b in buckets)
    if any(a == b for a, b in zip(keys, keys[1:], strict=False)):
        raise ValueError("each rate bucket key may appear once per call")
    return keys


def gcra_fit(buckets: list[RateBucket], tats: dict[str, float], now: float) -> tuple[dict[str, float], float]:
    """gcra() over several buckets: (the new time of each, the longest wait). One more request
    fits them all when the wait is 0."""
    new_tats, wait = {}, 0.0
    for bucket in buckets:
        new_tat, bucket_wait = gcra(tats.get(bucket.key, 0.0), now, bucket)
        new_tats[bucket.key] = new_tat
        wait = max(wait, bucket_wait)
    return new_tats, wait


@dataclass
class KeptAnswer:
    """The answer a request made with an Idempotency-Key got, kept for its replays.

    `scope` is whose key it is (a tenant id, or "platform"); `key_hash` the SHA-256 of the key;
    `fingerprint` what the request was (method, path, body); `sealed` the answer (status, headers,
    body), encrypted by the spine: no answer, a plaintext credential included, is at rest in clear."""

    scope: str
    key_hash: str
    fingerprint: str
    sealed: bytes
    created_at: datetime
    expires_at: datetime


# A job's states: pending (waiting for run_at), running (leased to a worker), done, dead (out of
# attempts, or refused for good). Only pending and running jobs are ever claimed.
JOB_STATES = ("pending", "running", "done", "dead")


@dataclass
class Job:
    """A unit of background work, kept as a row so that enqueueing it commits with the change that
    causes it. charter.jobs says what runs it; charter.jobworker claims and runs it.

    `key` makes enqueueing idempotent: a kind has one job per key (until pruned). `run_at` is when
    the job may next be claimed: a pending job's due time, a running job's lease end (its worker
    renews the lease while it runs; once it passes, the worker is taken for lost and another may
    claim the job). `attempts` counts claims, `leased_by` names the worker of the last one."""

    id: UUID
    kind: str  # the job type, "<api>.<what>": "platform.sweep"
    key: str
    args: dict
    run_at: datetime
    created_at: datetime
    tenant_id: UUID | None = None  # whose it is, if anyone's: informational, no foreign key
    state: str = "pending"
    attempts: int = 0
    leased_by: str | None = None
    last_error: str | None = None
    progress_done: int | None = None
    progress_total: int | None = None
    finished_at: datetime | None = None


def new_job(
    kind: str,
    args: dict | None = None,
    *,
    key: str | None = None,
    run_at: datetime | None = None,
    tenant_id: UUID | None = None,
) -> Job:
    """A pending job to enqueue (`s.jobs.enqueue(new_job(...))` in the write of the change that
    causes it): due now unless `run_at` says later; without a `key`, a fresh one (its id)."""
    now = utcnow()
    job_id = uuid4()
    return Job(
        id=job_id,
        kind=kind,
        key=str(job_id) if key is None else key,
        args=dict(args or {}),
        run_at=now if run_at is None else run_at,
        created_at=now,
        tenant_id=tenant_id,
    )


# ---------------------------------------------------------------- licensing (specs/licensing.yaml)
# Every licensing record belongs to one tenant (tenant_id), and goes when its tenant goes.


@dataclass
class IssuerKey:
    """A tenant's Ed25519 license-signing key. The private key is kept sealed (charter.sealing,
    where=b"licensing-issuer:<id>"); the newest key not retired signs new licenses, and every key
    that signed a license stays listed, since the key format names no key."""

    id: UUID
    tenant_id: UUID
    public_key: bytes  # raw 32 bytes
    private_sealed: bytes
    created_at: datetime
    retired_at: datetime | None = None  # from then on it signs nothing new


@dataclass
class LicenseProduct:
    id: UUID
    tenant_id: UUID
    slug: str  # unique per tenant
    name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    price_value: int = 0  # in the smallest unit of price_currency (sats, cents)
    price_currency: str = "SAT"  # SAT | USD | EUR
    active: bool = True
    entitlements_catalog: list[dict] = field(default_factory=list)  # [{slug, name, description}]
    metadata: dict = field(default_factory=dict)


@dataclass
class LicensePolicy:
    """A tier of a product: what a license issued under it gets."""

    id: UUID
    tenant_id: UUID
    product_id: UUID
    slug: str  # unique per product
    name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    duration_seconds: int = 0  # 0: perpetual
    grace_seconds: int = 0
    max_machines: int = 1  # 0: unlimited
    heartbeat_window_seconds: int = 0  # 0: seats never expire; else a machine silent this long loses its seat
    is_trial: bool = False
    price_override: int | None = None  # in the product's currency
    entitlements: list[str] = field(default_factory=list)
    public: bool = True
    active: bool = True
    highlighted: bool = False
    is_recurring: bool = False
    renewal_period_days: int = 0
    trial_days: int = 0
    tier_rank: int | None = None
    archived_at: datetime | None = None
    metadata: dict = field(default_factory=dict)


LICENSE_STATUSES = ("active", "revoked", "suspended")
# A recurring license's subscription: renewing (active), waiting on a renewal invoice (past_due),
# not renewing past its period (cancelled), over (ended). None on a license that does not recur.
SUBSCRIPTION_STATUSES = ("active", "past_due", "cancelled", "ended")


@dataclass
class License:
    """What a license key says, kept as fields: the key is derived from them (and its issuer key)
    whenever it is served, byte for byte the same each time. issued_at and expires_at are whole
    seconds."""

    id: UUID
    tenant_id: UUID
    product_id: UUID
    issuer_key_id: UUID
    status: str  # LICENSE_STATUSES
    issued_at: datetime
    updated_at: datetime
    policy_id: UUID | None = None
    expires_at: datetime | None = None  # None: perpetual
    grace_seconds: int = 0
    max_machines: int = 1  # 0: unlimited
    heartbeat_window_seconds: int = 0
    is_trial: bool = False
    entitlements: list[str] = field(default_factory=list)
    fingerprint_hash: str | None = None  # hex SHA-256 the key is bound to; None: unbound
    buyer_email: str | None = None  # kept lower-cased
    note: str | None = None
    invoice_id: UUID | None = None
    status_reason: str | None = None  # why it was revoked or suspended
    subscription: str | None = None  # SUBSCRIPTION_STATUSES; None: not recurring
    cancelled_at: datetime | None = None  # when its subscription was cancelled


@dataclass
class Machine:
    """A seat: one fingerprint (only its hex SHA-256 is kept) on one license. Active while
    deactivated_at is None; unique per (license_id, fingerprint_hash), so activating again
    reuses the row."""

    id: UUID
    tenant_id: UUID
    license_id: UUID
    fingerprint_hash: str
    activated_at: datetime
    last_seen_at: datetime
    hostname: str | None = None
    platform: str | None = None
    seat_expires_at: datetime | None = None  # last_seen_at + the license's heartbeat window; None: never
    deactivated_at: datetime | None = None
    deactivation_reason: str | None = None


INVOICE_STATUSES = ("pending", "settled", "expired", "invalid")
# What settling an invoice does: issue a license (purchase), move one to another tier (upgrade),
# or extend a subscription by a period (renewal). The last two name their license from the start.
INVOICE_KINDS = ("purchase", "upgrade", "renewal")


@dataclass
class Invoice:
    """A purchase (or a free redemption): pending until its provider settles it, which issues
    exactly one license (license_id)."""

    id: UUID
    tenant_id: UUID
    product_id: UUID
    status: str  # INVOICE_STATUSES
    provider: str  # "manual", "free", …
    provider_invoice_id: str
    amount: int  # to pay, in the product's smallest unit
    currency: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    policy_id: UUID | None = None
    base_amount: int = 0
    discount_amount: int = 0
    code_id: UUID | None = None
    buyer_email: str | None = None
    buyer_note: str | None = None
    license_id: UUID | None = None
    settled_at: datetime | None = None
    kind: str = "purchase"  # INVOICE_KINDS


@dataclass
class DiscountCode:
    """A discount (or free-license) code; only its SHA-256 is kept, unique per tenant."""

    id: UUID
    tenant_id: UUID
    code_hash: str  # hex SHA-256 of the code as typed, upper-cased
    label: str  # what admins see: the code's first characters
    created_at: datetime
    updated_at: datetime
    product_id: UUID | None = None  # None: every product
    percent_off: int = 0  # 0..100; 100 makes a free-license code
    amount_off: int = 0
    max_redemptions: int = 0  # 0: unlimited
    redemptions: int = 0
    expires_at: datetime | None = None
    active: bool = True


# An audit export's states: queued (its job not yet run), running, ready (its bundle is on disk),
# failed (its job gave up), revoked (its bundle removed by an admin). Ready, failed and revoked end it.
EXPORT_STATES = ("queued", "running", "ready", "failed", "revoked")


@dataclass
class AuditExport:
    """An audit export bundle of one tenant: what was asked for, the job that builds it, and what
    it made. The bundle itself is a file under CHARTER_DATA_DIR, never in the store."""

    id: UUID
    tenant_id: UUID
    since: datetime
    until: datetime
    includes: list[str]
    requested_by: str  # the actor, as "<kind>:<id>"
    created_at: datetime
    updated_at: datetime
    status: str = "queued"
    job_id: UUID | None = None
    items_done: int = 0
    items_total: int | None = None
    size: int | None = None  # the ZIP's bytes
    sha256: str | None = None  # the ZIP's hex SHA-256
    key_id: str | None = None  # the key that signed its manifest
    checkpoint_size: int | None = None  # the tree size its checkpoint pins
    error: str | None = None
    finished_at: datetime | None = None
    revoked_at: datetime | None = None


# Dispute cases (specs/disputes.yaml): status and stage are separate. A case in a terminal status
# takes no further change.
DISPUTE_STATUSES = ("open", "needs_response", "under_review", "won", "lost", "accepted", "expired", "withdrawn")
DISPUTE_TERMINAL = frozenset({"won", "lost", "accepted", "expired", "withdrawn"})
DISPUTE_STAGES = ("inquiry", "chargeback", "pre_arbitration", "arbitration")


@dataclass
class DisputeCase:
    """A dispute about one subject of a tenant (a payment, an invoice, …), worked by its people.
    `links` are the licensing objects it names: [{kind, id, linked_at}], ids and times as text."""

    id: UUID
    tenant_id: UUID
    subject_type: str
    subject_id: str
    status: str  # DISPUTE_STATUSES
    stage: str  # DISPUTE_STAGES
    created_at: datetime
    updated_at: datetime
    title: str | None = None
    reason: str | None = None
    amount: int | None = None  # in the currency's smallest unit
    currency: str | None = None
    due_by: datetime | None = None  # when a response is due (needs_response)
    assignee_id: UUID | None = None  # a user of the tenant
    outcome: str | None = None  # won | lost | accepted | withdrawn, once resolved
    rationale: str | None = None
    resolved_at: datetime | None = None
    links: list[dict] = field(default_factory=list)


@dataclass
class DisputeEvidence:
    """A reference to one piece of evidence of a case: what it is and its SHA-256, never the bytes."""

    id: UUID
    tenant_id: UUID
    case_id: UUID
    kind: str
    sha256: str  # 64 lower-case hex digits
    size: int
    media_type: str
    created_at: datetime
    label: str | None = None
    uri: str | None = None


@dataclass
class DisputeNote:
    """A note on a case: append-only, never changed."""

    id: UUID
    tenant_id: UUID
    case_id: UUID
    body: str
    created_at: datetime
    author_kind: str | None = None
    author_id: str | None = None
