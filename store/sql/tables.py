"""The SQL schema as SQLAlchemy Core tables. The Alembic migrations must build exactly this.

test_migrated_schema_matches_tables (tests/store/test_store_sql.py) compares a migrated database
with this MetaData, so a change here without a migration (or the other way round) fails the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp in, a timezone-aware UTC timestamp out, on every backend.

    Naive datetimes are taken to be UTC. SQLite keeps the text of a UTC timestamp without offset
    (so text order is time order) and hands back naive values; they get UTC attached here.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json():
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


AUDIT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("slug", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("plan", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("erp_customer_id", sa.String(), nullable=True),
    sa.Column("stripe_cust_id", sa.String(), nullable=True),
    sa.Column("trial_ends_at", UtcDateTime(), nullable=True),
    sa.Column("contract_start", sa.Date(), nullable=True),
    sa.Column("contract_end", sa.Date(), nullable=True),
    sa.Column("sales_owner", sa.String(), nullable=True),
    sa.UniqueConstraint("slug"),
)

entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("product", sa.String(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("config", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "product"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("prefix", sa.String(), nullable=False),
    sa.Column("secret_hash", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("scopes", _json(), nullable=False),
    sa.Column("product", sa.String(), nullable=True),
    sa.Column("created_by", sa.String(), nullable=True),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Index(None, "prefix"),
    sa.Index(None, "tenant_id"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", AUDIT_ID, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    # No foreign key: an audit row is evidence, hashed into its tenant's log, and outlives the tenant.
    sa.Column("tenant_id", sa.Uuid(), nullable=True),
    sa.Column("project_id", sa.Uuid(), nullable=True),
    sa.Column("actor_id", sa.String(), nullable=True),
    sa.Column("actor_name", sa.String(), nullable=True),
    sa.Column("actor_type", sa.String(), nullable=True),
    sa.Column("target_id", sa.String(), nullable=True),
    sa.Column("target_type", sa.String(), nullable=True),
    sa.Column("target_name", sa.String(), nullable=True),
    sa.Column("product", sa.String(), nullable=True),
    # json, not jsonb, on PostgreSQL: the text as written, so every number reads back as it was
    # sent (jsonb writes 1e300 back as 1000…0, and an integer and a float become alike).
    sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("source_ip", sa.String(), nullable=True),
    sa.Column("user_agent", sa.String(), nullable=True),
    # Who appended the row, from its credential. No foreign key: it is evidence, kept as recorded.
    sa.Column("recorded_by_kind", sa.String(), nullable=True),
    sa.Column("recorded_by_id", sa.String(), nullable=True),
    sa.Column("recorded_by_tenant_id", sa.Uuid(), nullable=True),
    # Its leaf in its log (the tenant id as text, or "platform"): seq is gap-free from 0 per log.
    sa.Column("log_id", sa.String(), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("log_id", "seq"),
    # Keyset paging is `WHERE id < :cursor [AND col = :v] ORDER BY id DESC`: the primary key serves
    # the unfiltered case, one (col, id) index per equality filter serves the rest.
    sa.Index(None, "tenant_id", "id"),
    sa.Index(None, "action", "id"),
    sa.Index(None, "actor_id", "id"),
    sa.Index(None, "product", "id"),
    sqlite_autoincrement=True,  # never hand out an id twice, as the memory store never does
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("email", sa.String(), nullable=False),
    sa.Column("password_hash", sa.String(), nullable=False),
    sa.Column("platform_roles", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("disabled_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("email"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("roles", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("user_id", "tenant_id"),
    sa.Index(None, "tenant_id"),
)

auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("roles", _json(), nullable=False),
    sa.Column("reason", sa.String(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Index(None, "user_id"),
    sa.Index(None, "tenant_id"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("session_id", sa.Uuid(), sa.ForeignKey("auth_sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("rotated_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("token_hash"),
    sa.Index(None, "session_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(), primary_key=True),
    sa.Column("public_jwk", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sign_until", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

# GCRA buckets: key -> theoretical arrival time in epoch seconds. No row means tat 0, and so
# does any tat in the past: rows with tat < now may be deleted at any time.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("tat", sa.Double(), nullable=False),
)

# Answers kept for Idempotency-Key replays, by whose key it is (a tenant id as text, or
# "platform": no foreign key, as deleting a tenant leaves them to expire) and the key's SHA-256.
kept_answers = sa.Table(
    "kept_answers",
    metadata,
    sa.Column("scope", sa.String(), primary_key=True),
    sa.Column("key_hash", sa.String(), primary_key=True),
    sa.Column("fingerprint", sa.String(), nullable=False),
    sa.Column("sealed", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# Background jobs (store.models.Job). A job's tenant_id names no tenant by foreign key: it is
# informational, and a tenant's deletion leaves its jobs to find the tenant gone. run_at is when a
# pending job is due, and a running job's lease end; a claim is one ordered range scan of the
# partial index over the jobs that can be claimed at all (done and dead ones are not in it).
CLAIMABLE = "state IN ('pending', 'running')"
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("key", sa.String(), nullable=False),
    sa.Column("args", _json(), nullable=False),
    sa.Column("tenant_id", sa.Uuid(), nullable=True),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("run_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("leased_by", sa.String(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("progress_done", sa.BigInteger(), nullable=True),
    sa.Column("progress_total", sa.BigInteger(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("kind", "key"),
    sa.Index(None, "run_at", postgresql_where=sa.text(CLAIMABLE), sqlite_where=sa.text(CLAIMABLE)),
    sa.Index(None, "state", "finished_at"),  # pruning finished jobs
)

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("event_types", _json(), nullable=True),  # NULL: every event
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    sa.Column("previous_secret_sealed", sa.LargeBinary(), nullable=True),
    sa.Column("previous_until", UtcDateTime(), nullable=True),
    sa.Column("failing_since", UtcDateTime(), nullable=True),
    sa.Column("last_success_at", UtcDateTime(), nullable=True),
    sa.Index(None, "tenant_id"),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Index(None, "tenant_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("endpoint_id", sa.Uuid(), sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.Uuid(), sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_type", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", _json(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("tries", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "endpoint_id", "created_at"),
    sa.Index(None, "tenant_id", "status"),
    sa.Index(None, "event_id"),
)

# ---------------------------------------------------------------------------------- licensing
# Every record belongs to a tenant and goes with it (ON DELETE CASCADE); policies, licenses and
# invoices go with their product, machines with their license. Ids a record keeps of records it
# does not depend on (a license's policy_id and invoice_id, an invoice's policy_id, code_id and
# license_id, a code's product_id) have no foreign key: they say what it was made from, and
# nothing deletes those records but their tenant's (or product's) deletion, which takes this one too.


def _tenant_id() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


license_issuer_keys = sa.Table(
    "license_issuer_keys",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("public_key", sa.LargeBinary(), nullable=False),
    sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("retired_at", UtcDateTime(), nullable=True),
    sa.Index(None, "tenant_id"),
)

license_products = sa.Table(
    "license_products",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("slug", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("price_value", sa.BigInteger(), nullable=False),
    sa.Column("price_currency", sa.String(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("entitlements_catalog", _json(), nullable=False),
    sa.Column("metadata", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "slug"),  # also the tenant's index
)

license_policies = sa.Table(
    "license_policies",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("product_id", sa.Uuid(), sa.ForeignKey("license_products.id", ondelete="CASCADE"), nullable=False),
    sa.Column("slug", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("duration_seconds", sa.BigInteger(), nullable=False),
    sa.Column("grace_seconds", sa.BigInteger(), nullable=False),
    sa.Column("max_machines", sa.Integer(), nullable=False),
    sa.Column("heartbeat_window_seconds", sa.BigInteger(), nullable=False),
    sa.Column("is_trial", sa.Boolean(), nullable=False),
    sa.Column("price_override", sa.BigInteger(), nullable=True),
    sa.Column("entitlements", _json(), nullable=False),
    sa.Column("public", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("highlighted", sa.Boolean(), nullable=False),
    sa.Column("is_recurring", sa.Boolean(), nullable=False),
    sa.Column("renewal_period_days", sa.Integer(), nullable=False),
    sa.Column("trial_days", sa.Integer(), nullable=False),
    sa.Column("tier_rank", sa.Integer(), nullable=True),
    sa.Column("archived_at", UtcDateTime(), nullable=True),
    sa.Column("metadata", _json(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("product_id", "slug"),  # also the product's index
    sa.Index(None, "tenant_id"),
)

licenses = sa.Table(
    "licenses",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("product_id", sa.Uuid(), sa.ForeignKey("license_products.id", ondelete="CASCADE"), nullable=False),
    # The key that signed it: issuer keys are never deleted but with their tenant.
    sa.Column("issuer_key_id", sa.Uuid(), nullable=False),
    sa.Column("policy_id", sa.Uuid(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("grace_seconds", sa.BigInteger(), nullable=False),
    sa.Column("max_machines", sa.Integer(), nullable=False),
    sa.Column("heartbeat_window_seconds", sa.BigInteger(), nullable=False),
    sa.Column("is_trial", sa.Boolean(), nullable=False),
    sa.Column("entitlements", _json(), nullable=False),
    sa.Column("fingerprint_hash", sa.String(), nullable=True),
    sa.Column("buyer_email", sa.String(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("invoice_id", sa.Uuid(), nullable=True),
    sa.Column("status_reason", sa.Text(), nullable=True),
    sa.Column("subscription", sa.String(), nullable=True),
    sa.Column("cancelled_at", UtcDateTime(), nullable=True),
    sa.Index(None, "tenant_id", "buyer_email"),
    sa.Index(None, "tenant_id", "product_id"),
    sa.Index(None, "product_id"),  # the product's cascade
    sa.Index(None, "invoice_id"),
    sa.Index(None, "subscription", "expires_at"),  # renewing()
)

ACTIVE_SEAT = "deactivated_at IS NULL"
license_machines = sa.Table(
    "license_machines",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("license_id", sa.Uuid(), sa.ForeignKey("licenses.id", ondelete="CASCADE"), nullable=False),
    sa.Column("fingerprint_hash", sa.String(), nullable=False),
    sa.Column("hostname", sa.String(), nullable=True),
    sa.Column("platform", sa.String(), nullable=True),
    sa.Column("activated_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("seat_expires_at", UtcDateTime(), nullable=True),
    sa.Column("deactivated_at", UtcDateTime(), nullable=True),
    sa.Column("deactivation_reason", sa.Text(), nullable=True),
    sa.UniqueConstraint("license_id", "fingerprint_hash"),  # also the license's index
    sa.Index(None, "tenant_id"),
    # silent(): one ordered range scan over the active seats that can expire
    sa.Index(None, "seat_expires_at", postgresql_where=sa.text(ACTIVE_SEAT), sqlite_where=sa.text(ACTIVE_SEAT)),
)

license_invoices = sa.Table(
    "license_invoices",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("product_id", sa.Uuid(), sa.ForeignKey("license_products.id", ondelete="CASCADE"), nullable=False),
    sa.Column("policy_id", sa.Uuid(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("provider", sa.String(), nullable=False),
    sa.Column("provider_invoice_id", sa.String(), nullable=False),
    sa.Column("amount", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.String(), nullable=False),
    sa.Column("base_amount", sa.BigInteger(), nullable=False),
    sa.Column("discount_amount", sa.BigInteger(), nullable=False),
    sa.Column("code_id", sa.Uuid(), nullable=True),
    sa.Column("buyer_email", sa.String(), nullable=True),
    sa.Column("buyer_note", sa.Text(), nullable=True),
    sa.Column("license_id", sa.Uuid(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("settled_at", UtcDateTime(), nullable=True),
    sa.Column("kind", sa.String(), nullable=False, server_default="purchase"),
    sa.Index(None, "tenant_id", "created_at"),
    sa.Index(None, "product_id"),  # the product's cascade
    sa.Index(None, "status", "expires_at"),  # overdue()
)

license_discount_codes = sa.Table(
    "license_discount_codes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("product_id", sa.Uuid(), nullable=True),  # NULL: every product
    sa.Column("code_hash", sa.String(), nullable=False),
    sa.Column("label", sa.String(), nullable=False),
    sa.Column("percent_off", sa.Integer(), nullable=False),
    sa.Column("amount_off", sa.BigInteger(), nullable=False),
    sa.Column("max_redemptions", sa.Integer(), nullable=False),
    sa.Column("redemptions", sa.Integer(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "code_hash"),  # also the tenant's index
)

# Dispute cases (specs/disputes.yaml): each belongs to a tenant and goes with it; evidence
# references and notes go with their case. A case's links name licensing objects by id, with no
# foreign key (what it was linked to, kept as the case says).
dispute_cases = sa.Table(
    "dispute_cases",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("subject_type", sa.String(), nullable=False),
    sa.Column("subject_id", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("stage", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("title", sa.Text(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("amount", sa.BigInteger(), nullable=True),
    sa.Column("currency", sa.String(), nullable=True),
    sa.Column("due_by", UtcDateTime(), nullable=True),
    sa.Column("assignee_id", sa.Uuid(), nullable=True),
    sa.Column("outcome", sa.String(), nullable=True),
    sa.Column("rationale", sa.Text(), nullable=True),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Column("links", _json(), nullable=False),
    sa.Index(None, "tenant_id", "created_at"),
    sa.Index(None, "tenant_id", "subject_type", "subject_id"),
)


def _case_id() -> sa.Column:
    return sa.Column("case_id", sa.Uuid(), sa.ForeignKey("dispute_cases.id", ondelete="CASCADE"), nullable=False)


dispute_evidence = sa.Table(
    "dispute_evidence",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    _case_id(),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("media_type", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("label", sa.Text(), nullable=True),
    sa.Column("uri", sa.Text(), nullable=True),
    sa.Index(None, "case_id"),
    sa.Index(None, "tenant_id"),
)

dispute_notes = sa.Table(
    "dispute_notes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    _case_id(),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("author_kind", sa.String(), nullable=True),
    sa.Column("author_id", sa.String(), nullable=True),
    sa.Index(None, "case_id"),
    sa.Index(None, "tenant_id"),
)

# The verifiable audit log (store.merkle): per log its head, row locked by every append (FOR
# UPDATE on PostgreSQL; SQLite's writes are serialised), and the hash of every complete subtree
# (level 0: the leaf hashes). Keyed by log id, with no foreign key. Checkpoints are the signed
# notes of a log at a size; ledger_keys the platform keys that sign them. Triggers (migration
# 0009) refuse UPDATE and DELETE on audit_events, ledger_nodes, ledger_checkpoints and
# ledger_keys, and on ledger_heads a DELETE or an UPDATE that does not grow the log.
ledger_heads = sa.Table(
    "ledger_heads",
    metadata,
    sa.Column("log_id", sa.String(), primary_key=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("compact", sa.LargeBinary(), nullable=False),
)

ledger_nodes = sa.Table(
    "ledger_nodes",
    metadata,
    sa.Column("log_id", sa.String(), primary_key=True),
    sa.Column("level", sa.SmallInteger(), primary_key=True),
    sa.Column("idx", sa.BigInteger(), primary_key=True),
    sa.Column("hash", sa.LargeBinary(), nullable=False),
)

ledger_checkpoints = sa.Table(
    "ledger_checkpoints",
    metadata,
    sa.Column("log_id", sa.String(), primary_key=True),
    sa.Column("size", sa.BigInteger(), primary_key=True),
    sa.Column("root", sa.LargeBinary(), nullable=False),
    sa.Column("key_id", sa.String(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

ledger_keys = sa.Table(
    "ledger_keys",
    metadata,
    sa.Column("key_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("public_key", sa.LargeBinary(), nullable=False),
    sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

audit_exports = sa.Table(
    "audit_exports",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    _tenant_id(),
    sa.Column("since", UtcDateTime(), nullable=False),
    sa.Column("until", UtcDateTime(), nullable=False),
    sa.Column("includes", _json(), nullable=False),
    sa.Column("requested_by", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("job_id", sa.Uuid(), nullable=True),
    sa.Column("items_done", sa.BigInteger(), nullable=False),
    sa.Column("items_total", sa.BigInteger(), nullable=True),
    sa.Column("size", sa.BigInteger(), nullable=True),
    sa.Column("sha256", sa.String(), nullable=True),
    sa.Column("key_id", sa.String(), nullable=True),
    sa.Column("checkpoint_size", sa.BigInteger(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Index(None, "tenant_id", "created_at"),
)

# Every table, parents before children (the tests empty them in reverse order on SQLite).
ALL = (
    tenants,
    entitlements,
    api_keys,
    audit_events,
    users,
    memberships,
    auth_sessions,
    refresh_tokens,
    signing_keys,
    rate_limits,
    kept_answers,
    jobs,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    license_issuer_keys,
    license_products,
    license_policies,
    licenses,
    license_machines,
    license_invoices,
    license_discount_codes,
    dispute_cases,
    dispute_evidence,
    dispute_notes,
    ledger_heads,
    ledger_nodes,
    ledger_checkpoints,
    ledger_keys,
    audit_exports,
)
