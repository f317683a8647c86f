"""The licensing service's tables: issuer keys, products, policies, licenses, machines, invoices,
discount codes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Spelled out rather than imported from store.sql.tables: a migration is history.
TS = sa.DateTime(timezone=True)
ACTIVE_SEAT = "deactivated_at IS NULL"


def _json():
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    # Each table's tenant foreign key first: PostgreSQL checks them in the order they were made, so
    # a row naming neither its tenant nor its parent is refused for its tenant, as memory does.
    op.create_table(
        "license_issuer_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_issuer_keys_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_issuer_keys"),
    )
    op.create_index("ix_license_issuer_keys_tenant_id", "license_issuer_keys", ["tenant_id"])
    op.create_table(
        "license_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_value", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("entitlements_catalog", _json(), nullable=False),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_products_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_products"),
        sa.UniqueConstraint("tenant_id", "slug", name="uq_license_products_tenant_id_slug"),
    )
    op.create_table(
        "license_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
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
        sa.Column("archived_at", TS, nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_policies_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["license_products.id"],
            name="fk_license_policies_product_id_license_products",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_policies"),
        sa.UniqueConstraint("product_id", "slug", name="uq_license_policies_product_id_slug"),
    )
    op.create_index("ix_license_policies_tenant_id", "license_policies", ["tenant_id"])
    op.create_table(
        "licenses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("issuer_key_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
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
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_licenses_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["license_products.id"],
            name="fk_licenses_product_id_license_products",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_licenses"),
    )
    op.create_index("ix_licenses_invoice_id", "licenses", ["invoice_id"])
    op.create_index("ix_licenses_product_id", "licenses", ["product_id"])
    op.create_index("ix_licenses_tenant_id_buyer_email", "licenses", ["tenant_id", "buyer_email"])
    op.create_index("ix_licenses_tenant_id_product_id", "licenses", ["tenant_id", "product_id"])
    op.create_table(
        "license_machines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("license_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint_hash", sa.String(), nullable=False),
        sa.Column("hostname", sa.String(), nullable=True),
        sa.Column("platform", sa.String(), nullable=True),
        sa.Column("activated_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("seat_expires_at", TS, nullable=True),
        sa.Column("deactivated_at", TS, nullable=True),
        sa.Column("deactivation_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_machines_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name="fk_license_machines_license_id_licenses",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_machines"),
        sa.UniqueConstraint("license_id", "fingerprint_hash", name="uq_license_machines_license_id_fingerprint_hash"),
    )
    op.create_index(
        "ix_license_machines_seat_expires_at",
        "license_machines",
        ["seat_expires_at"],
        postgresql_where=sa.text(ACTIVE_SEAT),
        sqlite_where=sa.text(ACTIVE_SEAT),
    )
    op.create_index("ix_license_machines_tenant_id", "license_machines", ["tenant_id"])
    op.create_table(
        "license_invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
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
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_invoices_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["license_products.id"],
            name="fk_license_invoices_product_id_license_products",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_invoices"),
    )
    op.create_index("ix_license_invoices_product_id", "license_invoices", ["product_id"])
    op.create_index("ix_license_invoices_status_expires_at", "license_invoices", ["status", "expires_at"])
    op.create_index("ix_license_invoices_tenant_id_created_at", "license_invoices", ["tenant_id", "created_at"])
    op.create_table(
        "license_discount_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=False),
        sa.Column("amount_off", sa.BigInteger(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_license_discount_codes_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_license_discount_codes"),
        sa.UniqueConstraint("tenant_id", "code_hash", name="uq_license_discount_codes_tenant_id_code_hash"),
    )


def downgrade() -> None:  # the indexes go with their tables
    op.drop_table("license_discount_codes")
    op.drop_table("license_invoices")
    op.drop_table("license_machines")
    op.drop_table("licenses")
    op.drop_table("license_policies")
    op.drop_table("license_products")
    op.drop_table("license_issuer_keys")
