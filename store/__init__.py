"""Storage: one interface (store.interface), an in-memory and a SQL implementation.

    interface.py     a Protocol per aggregate, one per API group of them, the Session and the Store
    models.py        the records (plain dataclasses), and audit_draft(): a domain event's audit row
    groups.py        how a session gets its repositories: per API group, each built on first use
    unit_of_work.py  record(event) on a write session, and ON_COMMIT: what its commit writes
    memory/          dicts behind one lock, one module per aggregate (plus cascade.py)
    sql/             SQLAlchemy Core on SQLite or PostgreSQL, one module per aggregate
    migrations/      Alembic; store.sql.migrate runs them

A write session is a unit of work. `s.record(event)` keeps a domain event; when the `with
store.write() as s:` block ends normally, the store runs the writers of
`unit_of_work.ON_COMMIT` in order, in the transaction, then commits; when the block (or a writer)
raises, nothing of it stays. The audit writer comes first; another writer, such as a webhook
outbox, is one more entry in that tuple.

mypy checks both implementations against the interface: each repository where its group declares
it (`repository[interface.Tenants](SqlTenants)`), each session and store in `_conforms` at the end
of store/{memory,sql}/store.py.

Adding an aggregate (say invoices, in a new or an existing API group):
1. models.py: its dataclass.
2. interface.py: its Protocol, and a property for it in its group's Protocol.
3. memory/invoices.py: InvoiceRows (with `on_tenant_delete`: KEEP, DELETE, CLEAR or follow(…),
   see memory/cascade.py) and MemoryInvoices(Repo).
4. sql/invoices.py: SqlInvoices(Repo); its table in sql/tables.py (and in ALL), with the same rule
   as the foreign key's ondelete; an Alembic migration in migrations/versions/ that builds it
   (test_migrated_schema_matches_tables fails until it does).
5. Its line in the group of memory/groups.py and of sql/groups.py:
   `invoices = repository[interface.Invoices](MemoryInvoices)`. A new group is a new Group class
   (`class Billing(Group, api="billing")`) and its Protocol, added to the bases of both sessions
   and of interface.Session.
6. Parity tests in tests/store/test_store_invoices.py (they run on every store), and its entry in
   _observe() of tests/store/test_store_tenants.py, which fails until it is there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.interface import Store


def open_store(url: str) -> Store:
    """The store a DATABASE_URL names: memory://, sqlite:///path or postgresql://…"""
    if url.startswith("memory://"):
        from store.memory import MemoryStore

        return MemoryStore()
    from store.sql import SqlStore

    return SqlStore(url)
