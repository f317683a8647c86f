"""The in-process store: each aggregate's rows behind one lock, with an undo log so a failed
write leaves nothing.

For tests, demos and single-worker runs (`DATABASE_URL=memory://`). Records are copied in and
out, so callers never share mutable state with the store. One module per aggregate, as in
store.sql: its Rows (the records and their indexes, and what a tenant's deletion does to them,
store.memory.cascade) and its repository; store.memory.groups puts the repositories in their API
groups, store.memory.store makes the session and the store of them.
"""

from __future__ import annotations

from store.memory.store import MemorySession, MemoryStore

__all__ = ["MemorySession", "MemoryStore"]
