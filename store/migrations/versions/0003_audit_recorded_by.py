"""Audit rows say who appended them, from the credential: recorded_by_kind, _id and _tenant_id.
On PostgreSQL their metadata becomes json (the text as written) instead of jsonb, so every
number reads back as it was sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("recorded_by_kind", sa.String(), nullable=True))
        batch.add_column(sa.Column("recorded_by_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("recorded_by_tenant_id", sa.Uuid(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN metadata TYPE json USING metadata::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("recorded_by_tenant_id")
        batch.drop_column("recorded_by_id")
        batch.drop_column("recorded_by_kind")
