"""Answers kept for Idempotency-Key replays (kept_answers).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Spelled out rather than imported from store.sql.tables: a migration is history.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kept_answers",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_hash", name="pk_kept_answers"),
    )
    op.create_index("ix_kept_answers_expires_at", "kept_answers", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_kept_answers_expires_at", table_name="kept_answers")
    op.drop_table("kept_answers")
