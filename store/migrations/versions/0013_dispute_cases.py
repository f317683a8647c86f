"""Dispute cases: each tenant's cases, their evidence references and notes (specs/disputes.yaml).

Revision ID: 0013
Revises: 0012 (audit exports)
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Spelled out rather than imported from store.sql.tables: a migration is history.
TS = sa.DateTime(timezone=True)


def _json():
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE")


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["dispute_cases.id"], name=f"fk_{table}_case_id_dispute_cases", ondelete="CASCADE"
    )


def upgrade() -> None:
    # The tenant's foreign key first: PostgreSQL checks them in the order they were made, so a row
    # naming neither its tenant nor its case is refused for its tenant, as memory does.
    op.create_table(
        "dispute_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("due_by", TS, nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("links", _json(), nullable=False),
        _tenant_fk("dispute_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_dispute_cases"),
    )
    op.create_index("ix_dispute_cases_tenant_id_created_at", "dispute_cases", ["tenant_id", "created_at"])
    op.create_index(
        "ix_dispute_cases_tenant_id_subject_type_subject_id", "dispute_cases", ["tenant_id", "subject_type", "subject_id"]
    )
    op.create_table(
        "dispute_evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("uri", sa.Text(), nullable=True),
        _tenant_fk("dispute_evidence"),
        _case_fk("dispute_evidence"),
        sa.PrimaryKeyConstraint("id", name="pk_dispute_evidence"),
    )
    op.create_index("ix_dispute_evidence_case_id", "dispute_evidence", ["case_id"])
    op.create_index("ix_dispute_evidence_tenant_id", "dispute_evidence", ["tenant_id"])
    op.create_table(
        "dispute_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("author_kind", sa.String(), nullable=True),
        sa.Column("author_id", sa.String(), nullable=True),
        _tenant_fk("dispute_notes"),
        _case_fk("dispute_notes"),
        sa.PrimaryKeyConstraint("id", name="pk_dispute_notes"),
    )
    op.create_index("ix_dispute_notes_case_id", "dispute_notes", ["case_id"])
    op.create_index("ix_dispute_notes_tenant_id", "dispute_notes", ["tenant_id"])


def downgrade() -> None:  # the indexes go with their tables
    op.drop_table("dispute_notes")
    op.drop_table("dispute_evidence")
    op.drop_table("dispute_cases")
