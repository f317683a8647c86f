"""The verifiable audit log: per log (a tenant, or the platform) a head, the hash of every complete
subtree, signed checkpoints and the keys that sign them; each audit row gets its log and seq, and
the existing rows are appended to their logs in id order. Audit rows lose their foreign key to
tenants (a tenant's deletion rewrote them), and triggers make the log append-only.

Revision ID: 0009
Revises: 0008 (licensing)
migration touches only audit_events and its own tables)
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from alembic import op

# The leaf hashes of the backfill are the ones every append computes: a migration that rewrote
# the canonical form would be a new one, so the current code is the right one here.
from store.canonical import log_of
from store.ledger import next_leaf
from store.models import LedgerHead

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
APPEND_ONLY = ("audit_events", "ledger_nodes", "ledger_checkpoints", "ledger_keys")
FIELDS = (
    "id",
    "created_at",
    "action",
    "tenant_id",
    "project_id",
    "actor_id",
    "actor_name",
    "actor_type",
    "target_id",
    "target_type",
    "target_name",
    "product",
    "metadata",
    "source_ip",
    "user_agent",
    "recorded_by_kind",
    "recorded_by_id",
    "recorded_by_tenant_id",
)
_UUIDS = ("tenant_id", "project_id", "recorded_by_tenant_id")


def _events_table() -> sa.TableClause:
    columns = [sa.column(n, sa.Uuid() if n in _UUIDS else sa.String()) for n in FIELDS]
    columns[0] = sa.column("id", sa.BigInteger())
    columns[1] = sa.column("created_at", TS)
    columns[FIELDS.index("metadata")] = sa.column("metadata", sa.JSON(none_as_null=True))
    return sa.table("audit_events", *columns, sa.column("log_id", sa.String()), sa.column("seq", sa.BigInteger()))


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table(
        "ledger_heads",
        sa.Column("log_id", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("compact", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", name="pk_ledger_heads"),
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("log_id", sa.String(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "level", "idx", name="pk_ledger_nodes"),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("log_id", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", name="pk_ledger_checkpoints"),
    )
    op.create_table(
        "ledger_keys",
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_ledger_keys"),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("log_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    _backfill(bind)
    with op.batch_alter_table(
        "audit_events", recreate="always" if not pg else "auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_constraint("fk_audit_events_tenant_id_tenants", type_="foreignkey")
        batch.alter_column("log_id", existing_type=sa.String(), nullable=False)
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.create_unique_constraint("uq_audit_events_log_id_seq", ["log_id", "seq"])
    (_pg_triggers if pg else _sqlite_triggers)()


def _backfill(bind) -> None:
    """Append every audit row to its log, in id order, a batch at a time."""
    events = _events_table()
    nodes = sa.table(
        "ledger_nodes", sa.column("log_id"), sa.column("level"), sa.column("idx"), sa.column("hash", sa.LargeBinary())
    )
    heads_table = sa.table("ledger_heads", sa.column("log_id"), sa.column("size"), sa.column("compact", sa.LargeBinary()))
    set_leaf = (
        sa.update(events)
        .where(events.c.id == sa.bindparam("b_id"))
        .values(log_id=sa.bindparam("b_log"), seq=sa.bindparam("b_seq"))
    )
    heads: dict[str, LedgerHead] = {}
    last = 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.id > last).order_by(events.c.id).limit(1000)).all()
        if not rows:
            break
        made_rows, leaves = [], []
        for row in rows:
            values = dict(row._mapping)
            if values["created_at"].tzinfo is None:
                values["created_at"] = values["created_at"].replace(tzinfo=UTC)
            log = log_of(values["tenant_id"])
            head = heads.get(log) or LedgerHead(log, 0, b"")
            values.update(log_id=log, seq=head.size)
            heads[log], made = next_leaf(head, values)
            made_rows += [{"log_id": log, "level": v, "idx": i, "hash": h} for v, i, h in made]
            leaves.append({"b_id": values["id"], "b_log": log, "b_seq": head.size})
        bind.execute(sa.insert(nodes), made_rows)
        bind.execute(set_leaf, leaves)
        last = rows[-1].id
    if heads:
        bind.execute(
            sa.insert(heads_table), [{"log_id": h.log_id, "size": h.size, "compact": h.compact} for h in heads.values()]
        )


def _pg_triggers() -> None:
    op.execute(
        """CREATE FUNCTION charter_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'charter: % is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END $$"""
    )
    op.execute(
        """CREATE FUNCTION charter_ledger_head_grows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR NEW.log_id <> OLD.log_id OR NEW.size <= OLD.size THEN
                RAISE EXCEPTION 'charter: a log head only grows: % refused', TG_OP;
            END IF;
            RETURN NEW;
        END $$"""
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION charter_append_only()"
        )
    op.execute(
        "CREATE TRIGGER ledger_heads_grow BEFORE UPDATE OR DELETE ON ledger_heads "
        "FOR EACH ROW EXECUTE FUNCTION charter_ledger_head_grows()"
    )


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'charter: {table} is append-only: {what} refused'); END"
            )
    op.execute(
        "CREATE TRIGGER ledger_heads_grow BEFORE UPDATE ON ledger_heads "
        "WHEN NEW.size <= OLD.size OR NEW.log_id <> OLD.log_id "
        "BEGIN SELECT RAISE(ABORT, 'charter: a log head only grows: UPDATE refused'); END"
    )
    op.execute(
        "CREATE TRIGGER ledger_heads_no_delete BEFORE DELETE ON ledger_heads "
        "BEGIN SELECT RAISE(ABORT, 'charter: a log head only grows: DELETE refused'); END"
    )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP TRIGGER ledger_heads_grow ON ledger_heads")
        op.execute("DROP FUNCTION charter_append_only()")
        op.execute("DROP FUNCTION charter_ledger_head_grows()")
    else:
        for table in APPEND_ONLY:
            for what in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{what}")
        op.execute("DROP TRIGGER ledger_heads_grow")
        op.execute("DROP TRIGGER ledger_heads_no_delete")
    op.execute("UPDATE audit_events SET tenant_id = NULL WHERE tenant_id NOT IN (SELECT id FROM tenants)")
    with op.batch_alter_table("audit_events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("uq_audit_events_log_id_seq", type_="unique")
        batch.drop_column("seq")
        batch.drop_column("log_id")
        batch.create_foreign_key(
            "fk_audit_events_tenant_id_tenants", "tenants", ["tenant_id"], ["id"], ondelete="SET NULL"
        )
    for table in ("ledger_keys", "ledger_checkpoints", "ledger_nodes", "ledger_heads"):
        op.drop_table(table)
