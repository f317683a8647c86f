"""Storage: one interface (store.interface), an in-memory and a SQL implementation."""

from __future__ import annotations


def open_store(url: str):
    """The store a DATABASE_URL names: memory://, sqlite:///path or postgresql://…"""
    if url.startswith("memory://"):
        from store.memory import MemoryStore

        return MemoryStore()
    from store.sql import SqlStore

    return SqlStore(url)
