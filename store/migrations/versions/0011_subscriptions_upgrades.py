"""Subscriptions and upgrades: a recurring license keeps its subscription's state (and when it
was cancelled) on its own row, and an invoice says what settling it does (kind: purchase,
upgrade or renewal); every invoice before this one was a purchase.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("subscription", sa.String(), nullable=True))
        batch.add_column(sa.Column("cancelled_at", TS, nullable=True))
    op.create_index("ix_licenses_subscription_expires_at", "licenses", ["subscription", "expires_at"])
    with op.batch_alter_table("license_invoices") as batch:
        batch.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="purchase"))


def downgrade() -> None:
    with op.batch_alter_table("license_invoices") as batch:
        batch.drop_column("kind")
    op.drop_index("ix_licenses_subscription_expires_at", "licenses")
    with op.batch_alter_table("licenses") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("subscription")
